/**
 * Remembers recently verified admin passwords so Basic auth does not run scrypt on every
 * request (about 50 ms of CPU each: 18 requests/s, and a CPU sink). Keys are HMAC-SHA256 of
 * user and password under a random per-process key (nothing reversible is kept), entries
 * live `ttlMs` and carry the user's password generation, so a password change voids them.
 * Bounded: past `maxEntries` the oldest entry goes. Only successes are cached.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '@m2mhub/core';

export interface VerifiedCacheOptions {
  /** How long a verified password is trusted without scrypt, ms (default 60 s; 0: off). */
  cacheTtlMs?: number;
  /** Most cached credentials (default 1000). */
  cacheMaxEntries?: number;
}

export class VerifiedCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { gen: number; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly clock: Clock,
    opts: VerifiedCacheOptions = {},
  ) {
    this.ttlMs = opts.cacheTtlMs ?? 60_000;
    this.maxEntries = opts.cacheMaxEntries ?? 1000;
  }

  private id(username: string, password: string): string {
    return createHmac('sha256', this.key).update(username).update('\u0000').update(password).digest('base64');
  }

  /** The generation the password was verified for, if still fresh. */
  get(username: string, password: string): number | undefined {
    const id = this.id(username, password);
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (this.clock.now() >= e.until) {
      this.entries.delete(id);
      return undefined;
    }
    return e.gen;
  }

  set(username: string, password: string, gen: number): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    const id = this.id(username, password);
    this.entries.delete(id);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(id, { gen, until: this.clock.now() + this.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
