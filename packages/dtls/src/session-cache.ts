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

export class SessionCache {
  private readonly map = new Map<string, CachedSession>();
  constructor(
    private readonly maxSize: number,
    private readonly lifetimeMs: number,
  ) {}
  put(s: CachedSession): void {
    if (this.maxSize <= 0) return;
    const k = toHex(s.id);
    this.map.delete(k);
    this.map.set(k, s);
    while (this.map.size > this.maxSize) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
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
