/**
 * Stateless cookies for HelloVerifyRequest (RFC 6347 §4.2.1): HMAC over the client address and
 * the ClientHello fields that must not change, under a secret that rotates every
 * `lifetimeMs`; the previous secret is still accepted so a rotation never breaks a handshake.
 */
import type { Random, Scheduler } from '@m2mhub/core';
import { timingSafeEqual } from '@m2mhub/core';
import { hmacSha256 } from './crypto/prf';
import type { ClientHello } from './handshake/codec';

const COOKIE_LENGTH = 16;
const enc = new TextEncoder();

export class CookieJar {
  private current: Uint8Array;
  private previous: Uint8Array;
  private rotatedAt: number;
  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly lifetimeMs: number,
  ) {
    this.current = random.bytes(32);
    this.previous = this.current;
    this.rotatedAt = scheduler.now();
  }

  private rotate(): void {
    const now = this.scheduler.now();
    if (now - this.rotatedAt < this.lifetimeMs) return;
    this.previous = now - this.rotatedAt < 2 * this.lifetimeMs ? this.current : this.random.bytes(32);
    this.current = this.random.bytes(32);
    this.rotatedAt = now;
  }

  private compute(secret: Uint8Array, peerKey: string, ch: ClientHello): Uint8Array {
    const suites = new Uint8Array(ch.cipherSuites.length * 2);
    ch.cipherSuites.forEach((s, i) => {
      suites[2 * i] = s >>> 8;
      suites[2 * i + 1] = s & 0xff;
    });
    const v = new Uint8Array([ch.version >>> 8, ch.version & 0xff]);
    return hmacSha256(secret, enc.encode(peerKey), v, ch.random, ch.sessionId, suites, ch.compressionMethods).subarray(0, COOKIE_LENGTH);
  }

  make(peerKey: string, ch: ClientHello): Uint8Array {
    this.rotate();
    return this.compute(this.current, peerKey, ch);
  }

  verify(peerKey: string, ch: ClientHello): boolean {
    if (ch.cookie.length !== COOKIE_LENGTH) return false;
    this.rotate();
    return (
      timingSafeEqual(this.compute(this.current, peerKey, ch), ch.cookie) ||
      timingSafeEqual(this.compute(this.previous, peerKey, ch), ch.cookie)
    );
  }
}
