import type { Scheduler, TimerHandle } from '@m2mhub/core';

/**
 * Lifetime expiry of many registrations with ONE timer (LwM2M Core §6.2.1: a registration
 * ends when its lifetime passes without an Update). A min-heap of (deadline, id); entries
 * made stale by an Update are skipped lazily when they surface (the owner re-checks the
 * registration's current deadline in `onDue`). Deadlines are wall-clock ms.
 */
export class ExpiryQueue {
  private readonly at: number[] = [];
  private readonly ids: string[] = [];
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly onDue: (id: string, deadline: number) => void,
  ) {}

  get size(): number {
    return this.at.length;
  }

  add(id: string, deadline: number): void {
    if (this.closed) return;
    this.at.push(deadline);
    this.ids.push(id);
    this.up(this.at.length - 1);
    this.arm();
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.at.length = 0;
    this.ids.length = 0;
  }

  private arm(): void {
    const next = this.at[0];
    if (next === undefined || next >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = next;
    this.timer = this.scheduler.setTimeout(() => this.fire(), Math.max(0, next - this.scheduler.wallNow()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.scheduler.wallNow();
    while (this.at.length > 0 && this.at[0]! <= now) {
      const deadline = this.at[0]!;
      const id = this.ids[0]!;
      this.pop();
      this.onDue(id, deadline);
    }
    this.arm();
  }

  private pop(): void {
    const lastAt = this.at.pop()!;
    const lastId = this.ids.pop()!;
    if (this.at.length === 0) return;
    this.at[0] = lastAt;
    this.ids[0] = lastId;
    this.down(0);
  }

  private swap(i: number, j: number): void {
    const a = this.at[i]!;
    this.at[i] = this.at[j]!;
    this.at[j] = a;
    const b = this.ids[i]!;
    this.ids[i] = this.ids[j]!;
    this.ids[j] = b;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.at[p]! <= this.at[i]!) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.at.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.at[l]! < this.at[m]!) m = l;
      if (r < n && this.at[r]! < this.at[m]!) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
