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
    // peer || version || random || session_id || cipher_suites || compression_methods, in one update.
    const peer = enc.encode(peerKey);
    const n = ch.cipherSuites.length;
    const m = new Uint8Array(peer.length + 2 + ch.random.length + ch.sessionId.length + 2 * n + ch.compressionMethods.length);
    m.set(peer, 0);
    let o = peer.length;
    m[o++] = ch.version >>> 8;
    m[o++] = ch.version & 0xff;
    m.set(ch.random, o);
    o += ch.random.length;
    m.set(ch.sessionId, o);
    o += ch.sessionId.length;
    for (let i = 0; i < n; i++) {
      const s = ch.cipherSuites[i] as number;
      m[o++] = s >>> 8;
      m[o++] = s & 0xff;
    }
    m.set(ch.compressionMethods, o);
    return hmacSha256(secret, m).subarray(0, COOKIE_LENGTH);
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
