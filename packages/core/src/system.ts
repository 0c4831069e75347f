import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Random, Scheduler, TimerHandle } from './clock';

/** The real clock and timers; used only at composition roots and adapters. */
export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

export const systemRandom: Random = {
  float: () => Math.random(),
  int: (max: number) => (max <= 1 ? 0 : randomInt(0, max)),
  bytes: (n: number) => new Uint8Array(randomBytes(n)),
};
