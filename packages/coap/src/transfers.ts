/**
 * Server-side block-wise state (RFC 7959): Block1 bodies being reassembled and Block2 bodies
 * kept for follow-up requests, both bounded in number and expiring after an idle time.
 * Pure: time comes in as `now`.
 */
import { LRUCache } from 'lru-cache';
import type { CoapOption } from './api';

export interface Block1Transfer {
  chunks: Uint8Array[];
  received: number;
  expiresAt: number;
}

export interface Block2Body {
  code: string;
  body: Uint8Array;
  etag: Uint8Array;
  options: CoapOption[];
  expiresAt: number;
}

export class TransferStore {
  private readonly block1: LRUCache<string, Block1Transfer>;
  private readonly block2: LRUCache<string, Block2Body>;

  constructor(
    private readonly max: number,
    private readonly expiryMs: number,
  ) {
    this.block1 = new LRUCache({ max });
    this.block2 = new LRUCache({ max });
  }

  get size(): number {
    return this.block1.size + this.block2.size;
  }

  private purge(now: number): void {
    for (const [k, v] of this.block1.entries()) if (v.expiresAt <= now) this.block1.delete(k);
  }

  /** Starts a Block1 reassembly; undefined when `max` transfers are already running. */
  startBlock1(key: string, now: number): Block1Transfer | undefined {
    this.block1.delete(key);
    if (this.block1.size >= this.max) this.purge(now);
    if (this.block1.size >= this.max) return undefined;
    const t: Block1Transfer = { chunks: [], received: 0, expiresAt: now + this.expiryMs };
    this.block1.set(key, t);
    return t;
  }

  getBlock1(key: string, now: number): Block1Transfer | undefined {
    const t = this.block1.get(key);
    if (!t) return undefined;
    if (t.expiresAt <= now) {
      this.block1.delete(key);
      return undefined;
    }
    t.expiresAt = now + this.expiryMs;
    return t;
  }

  endBlock1(key: string): void {
    this.block1.delete(key);
  }

  /** Keeps a large body for its Block2 follow-ups; the least recently used one goes when full. */
  putBlock2(key: string, body: Omit<Block2Body, 'expiresAt'>, now: number): void {
    this.block2.set(key, { ...body, expiresAt: now + this.expiryMs });
  }

  getBlock2(key: string, now: number): Block2Body | undefined {
    const b = this.block2.get(key);
    if (!b) return undefined;
    if (b.expiresAt <= now) {
      this.block2.delete(key);
      return undefined;
    }
    b.expiresAt = now + this.expiryMs;
    return b;
  }

  clear(): void {
    this.block1.clear();
    this.block2.clear();
  }
}
