import type { Random, Scheduler, TimerHandle } from '../clock';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A deterministic scheduler for protocol tests: time moves only when `advance` is called. */
export class FakeScheduler implements Scheduler {
  private t: number;
  private seq = 0;
  private queue: Pending[] = [];
  constructor(
    start = 0,
    private readonly wallEpoch = 1_764_000_000_000,
  ) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.wallEpoch + this.t;
  }
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const p: Pending = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.queue.push(p);
    return {
      cancel: () => {
        p.cancelled = true;
      },
    };
  }
  /** Number of timers not yet fired or cancelled. */
  get pending(): number {
    return this.queue.filter((p) => !p.cancelled).length;
  }
  /** Moves time forward by `ms`, firing due timers in order (including ones they schedule). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      this.queue = this.queue.filter((p) => !p.cancelled);
      let next: Pending | undefined;
      for (const p of this.queue) {
        if (p.at <= target && (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      }
      if (!next) break;
      this.queue.splice(this.queue.indexOf(next), 1);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = target;
  }
  /** Advances to the next timer and fires it; returns false when none is pending. */
  runNext(): boolean {
    const live = this.queue.filter((p) => !p.cancelled);
    if (live.length === 0) return false;
    const at = Math.min(...live.map((p) => p.at));
    this.advance(at - this.t);
    return true;
  }
}

/** Deterministic PRNG (mulberry32) for tests; `bytes` is NOT cryptographically strong. */
export class SeededRandom implements Random {
  private s: number;
  constructor(seed = 1) {
    this.s = seed >>> 0;
  }
  float(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(max: number): number {
    return Math.floor(this.float() * max);
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}
