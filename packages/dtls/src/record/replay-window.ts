/**
 * The anti-replay sliding window of RFC 6347 §4.1.2.6 (RFC 4303 §3.4.3): remembers which of
 * the last `size` sequence numbers below the highest seen have been received.
 */
export class ReplayWindow {
  private max = -1;
  private readonly seen: Uint8Array;
  constructor(private readonly size = 64) {
    this.seen = new Uint8Array(size);
  }
  /** True when `seq` is new and inside the window (check before authenticating). */
  check(seq: number): boolean {
    if (seq > this.max) return true;
    if (seq <= this.max - this.size) return false;
    return this.seen[seq % this.size] === 0;
  }
  /** Marks `seq` received; call only after the record authenticated. */
  accept(seq: number): void {
    if (seq > this.max) {
      const shift = seq - this.max;
      if (shift >= this.size) this.seen.fill(0);
      else for (let s = this.max + 1; s <= seq; s++) this.seen[s % this.size] = 0;
      this.max = seq;
    }
    this.seen[seq % this.size] = 1;
  }
  get highest(): number {
    return this.max;
  }
}
