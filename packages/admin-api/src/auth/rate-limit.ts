/**
 * Failed-login limiter per source address, so a password cannot be guessed quickly
 * (DESIGN.md §6). After `maxFailures` failures within `windowMs` of an address's first
 * failure, every password check from that address is refused until the window ends. The
 * map is bounded: past `maxTracked` addresses the oldest entry is dropped (entries are
 * kept in insertion order, so the oldest is also the first to expire). Time comes from
 * the injected clock.
 */
import type { Clock } from '@m2mhub/core';

export interface LoginLimiterOptions {
  /** Failures allowed per address within the window (default 5). */
  maxFailures?: number;
  /** Length of the window in ms, counted from the first failure (default 60 s). */
  windowMs?: number;
  /** Most addresses tracked at once (default 10,000). */
  maxTracked?: number;
}

interface Entry {
  start: number;
  failures: number;
}

export class LoginLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly maxTracked: number;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    opts: LoginLimiterOptions = {},
  ) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxTracked = opts.maxTracked ?? 10_000;
  }

  private live(address: string): Entry | undefined {
    const e = this.entries.get(address);
    if (e && this.clock.now() - e.start >= this.windowMs) {
      this.entries.delete(address);
      return undefined;
    }
    return e;
  }

  /** Ms until `address` may try again; 0 when it may try now. */
  blockedFor(address: string): number {
    const e = this.live(address);
    if (!e || e.failures < this.maxFailures) return 0;
    return e.start + this.windowMs - this.clock.now();
  }

  fail(address: string): void {
    const e = this.live(address);
    if (e) {
      e.failures++;
      return;
    }
    if (this.entries.size >= this.maxTracked) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(address, { start: this.clock.now(), failures: 1 });
  }

  get size(): number {
    return this.entries.size;
  }
}
