/** Sessions kept for resumption by session ID (RFC 5246 §7.3), bounded in count and age. */
import type { PeerIdentity } from '@m2mhub/core';
import { toHex } from '@m2mhub/core';

export interface CachedSession {
  id: Uint8Array;
  masterSecret: Uint8Array;
  suiteId: number;
  extendedMasterSecret: boolean;
  identity: PeerIdentity | undefined;
  createdAt: number;
}

/**
 * Oldest-first eviction keeps its own insertion queue: evicting through `map.keys().next()`
 * scanned V8's deleted-entry holes at the front of the Map on every put (about a quarter of a
 * full handshake's server CPU with 10,000 sessions cached, see `pnpm bench dtls`).
 */
export class SessionCache {
  private readonly map = new Map<string, CachedSession>();
  /** Keys in insertion order from `head` on; entries whose session was replaced or deleted are skipped. */
  private queue: { key: string; session: CachedSession }[] = [];
  private head = 0;
  constructor(
    private readonly maxSize: number,
    private readonly lifetimeMs: number,
  ) {}
  put(s: CachedSession): void {
    if (this.maxSize <= 0) return;
    const key = toHex(s.id);
    this.map.set(key, s);
    this.queue.push({ key, session: s });
    while (this.map.size > this.maxSize && this.head < this.queue.length) {
      const old = this.queue[this.head++] as { key: string; session: CachedSession };
      if (this.map.get(old.key) === old.session) this.map.delete(old.key);
    }
    // Drop the consumed front, and stale entries (deleted or replaced sessions), now and then.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.queue.length - this.head > 2 * this.maxSize + 1024) {
      this.queue = this.queue.slice(this.head).filter((e) => this.map.get(e.key) === e.session);
      this.head = 0;
    }
  }
  get(id: Uint8Array, now: number): CachedSession | undefined {
    if (id.length === 0) return undefined;
    const k = toHex(id);
    const s = this.map.get(k);
    if (!s) return undefined;
    if (now - s.createdAt > this.lifetimeMs) {
      this.map.delete(k);
      return undefined;
    }
    return s;
  }
  delete(id: Uint8Array): void {
    this.map.delete(toHex(id));
  }
  get size(): number {
    return this.map.size;
  }
}
