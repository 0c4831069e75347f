/**
 * Time and scheduling ports. Protocol code never calls Date.now(), setTimeout or
 * Math.random() directly: it receives these, so tests can drive it with a fake clock.
 */
export interface Clock {
  /** Milliseconds since an arbitrary epoch, monotonic. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch (for timestamps shown to users). */
  wallNow(): number;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler extends Clock {
  /** Runs `fn` once after `delayMs`. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
}

export interface Random {
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** Cryptographically strong random bytes. */
  bytes(length: number): Uint8Array;
}
