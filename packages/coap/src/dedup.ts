/**
 * The deduplication table of RFC 7252 §4.5: which (peer, Message ID) pairs were seen within
 * EXCHANGE_LIFETIME (NON_LIFETIME for NON), with the reply to replay for a duplicate.
 *
 * Built for the request path of a busy server (100k entries, ~100k requests/s), where a Map of
 * per-message objects cost ~1 µs per request: each entry outlived the young generation, was
 * promoted, then died in the old one, and every lookup missed the CPU cache. Here:
 * - entries live in a ring of typed-array slots in arrival order (no object per message); a
 *   message's key is its arrival sequence number, its slot `seq & (ring length - 1)`;
 * - an open-addressing hash table (linear probing, backward-shift deletion) maps
 *   (peer, Message ID) to the slot; a peer is one small object per peer key, shared by all its
 *   entries (no string built per message);
 * - entries expire by age, never by use (§4.5 counts from the first arrival), so arrival order
 *   is eviction order: each insert drops the oldest entries that are expired, and the oldest
 *   one when `capacity` (the `dedupCacheSize` limit) is reached. O(1) amortised, no sweep timer.
 *   A lookup also checks the expiry, so an entry left past its lifetime (a NON entry behind a
 *   longer-lived CON entry) is never replayed.
 * - the reply is kept as (buffer, offset, length), not as the view that was sent, so nothing
 *   allocated per message survives the young generation (encoded replies are views on shared
 *   64 KiB slabs, see codec.ts); an empty ACK or RST is kept as its kind alone.
 * The ring starts small and doubles up to `capacity`, so a quiet endpoint stays small.
 */
import { emptyMessage } from './codec';

/** Identifies one received message (its arrival sequence number); stale once evicted. */
export type DedupKey = number;

interface Peer {
  readonly key: string;
  /** Hash input; identity is the object itself. */
  readonly id: number;
  refs: number;
}

const INITIAL_RING = 256;
const REPLY_NONE = 0;
const REPLY_BYTES = 1;
const REPLY_ACK = 2;
const REPLY_RST = 3;

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class DedupTable {
  private readonly peers = new Map<string, Peer>();
  private nextPeerId = 1;
  private readonly cap: number;
  // The ring: slot = seq & mask.
  private len = 0;
  private mask = 0;
  private seqs!: Float64Array;
  private expires!: Float64Array;
  private mids!: Uint16Array;
  /** Bit 0: empty ACK sent (RFC 7252 §5.2.2). Bits 1-7: duplicates seen, saturating. */
  private flags!: Uint8Array;
  private owners!: (Peer | undefined)[];
  /** What to replay: REPLY_NONE, REPLY_BYTES (bufs/offs/lens), REPLY_ACK or REPLY_RST. */
  private kinds!: Uint8Array;
  private bufs!: (ArrayBufferLike | undefined)[];
  private offs!: Uint32Array;
  private lens!: Uint32Array;
  /** The hash table, twice the ring length in buckets: [seq + 1 (0 when free), peer id * 2^16 + MID]. */
  private table!: Float64Array;
  private tmask = 0;
  private headSeq = 0;
  private nextSeq = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`dedup capacity ${capacity}`);
    this.cap = capacity;
    this.alloc(Math.min(pow2AtLeast(capacity), INITIAL_RING));
  }

  /** Entries held (live or awaiting eviction); never more than the capacity. */
  get size(): number {
    return this.nextSeq - this.headSeq;
  }

  /**
   * Looks up (peer, Message ID) at `now`. A live entry counts one more duplicate and its key is
   * returned; otherwise a new entry expiring at `now + lifetimeMs` is made (`hits(key)` 0).
   */
  open(peerKey: string, mid: number, now: number, lifetimeMs: number): DedupKey {
    let p = this.peers.get(peerKey);
    if (p) {
      const found = this.find(p, mid, now);
      if (found >= 0) {
        const slot = found & this.mask;
        const f = this.flags[slot]!;
        if (f < 0xfe) this.flags[slot] = f + 2;
        return found;
      }
    }
    this.evict(now);
    if (this.nextSeq - this.headSeq === this.len) this.grow();
    if (!p || p.refs === 0) {
      // New, or its last entry was evicted just now (and it left the map).
      p ??= { key: peerKey, id: this.nextPeerId, refs: 0 };
      this.nextPeerId = (this.nextPeerId + 1) & 0x7fffffff;
      this.peers.set(peerKey, p);
    }
    p.refs++;
    const seq = this.nextSeq++;
    const slot = seq & this.mask;
    this.seqs[slot] = seq;
    this.expires[slot] = now + lifetimeMs;
    this.mids[slot] = mid;
    this.flags[slot] = 0;
    this.owners[slot] = p;
    this.kinds[slot] = REPLY_NONE;
    this.tableInsert(seq, p.id, mid);
    return seq;
  }

  /** Duplicates of `key` seen so far (saturates at 127); 0 for an evicted key. */
  hits(key: DedupKey): number {
    const slot = key & this.mask;
    return this.seqs[slot] === key && key >= this.headSeq ? this.flags[slot]! >> 1 : 0;
  }

  /** The reply recorded for `key` (a fresh view), or undefined. */
  reply(key: DedupKey): Uint8Array | undefined {
    const slot = key & this.mask;
    if (this.seqs[slot] !== key || key < this.headSeq) return undefined;
    switch (this.kinds[slot]) {
      case REPLY_BYTES:
        return new Uint8Array(this.bufs[slot]!, this.offs[slot]!, this.lens[slot]!);
      case REPLY_ACK:
        return emptyMessage('ACK', this.mids[slot]!);
      case REPLY_RST:
        return emptyMessage('RST', this.mids[slot]!);
      default:
        return undefined;
    }
  }

  /** Whether a reply is recorded for `key`. */
  hasReply(key: DedupKey): boolean {
    const slot = key & this.mask;
    return this.seqs[slot] === key && key >= this.headSeq && this.kinds[slot] !== REPLY_NONE;
  }

  /**
   * Records the reply to replay for duplicates; a no-op once the entry was evicted. The bytes
   * must not change afterwards (they are referenced, not copied).
   */
  setReply(key: DedupKey, data: Uint8Array): void {
    const slot = key & this.mask;
    if (this.seqs[slot] !== key || key < this.headSeq) return;
    this.kinds[slot] = REPLY_BYTES;
    this.bufs[slot] = data.buffer;
    this.offs[slot] = data.byteOffset;
    this.lens[slot] = data.byteLength;
  }

  /** Records an Empty ACK or RST with the entry's Message ID as the reply (RFC 7252 §4.2, §4.3). */
  setEmptyReply(key: DedupKey, type: 'ACK' | 'RST'): void {
    const slot = key & this.mask;
    if (this.seqs[slot] !== key || key < this.headSeq) return;
    this.kinds[slot] = type === 'ACK' ? REPLY_ACK : REPLY_RST;
    this.bufs[slot] = undefined;
  }

  emptyAcked(key: DedupKey): boolean {
    const slot = key & this.mask;
    return this.seqs[slot] === key && key >= this.headSeq && (this.flags[slot]! & 1) === 1;
  }

  setEmptyAcked(key: DedupKey): void {
    const slot = key & this.mask;
    if (this.seqs[slot] === key && key >= this.headSeq) this.flags[slot]! |= 1;
  }

  clear(): void {
    this.peers.clear();
    this.alloc(Math.min(pow2AtLeast(this.cap), INITIAL_RING));
    // Keys handed out before stay stale: sequence numbers are never reused.
    this.headSeq = this.nextSeq;
  }

  private alloc(len: number): void {
    this.len = len;
    this.mask = len - 1;
    this.seqs = new Float64Array(len).fill(-1);
    this.expires = new Float64Array(len);
    this.mids = new Uint16Array(len);
    this.flags = new Uint8Array(len);
    this.owners = new Array<Peer | undefined>(len).fill(undefined);
    this.kinds = new Uint8Array(len);
    this.bufs = new Array<ArrayBufferLike | undefined>(len).fill(undefined);
    this.offs = new Uint32Array(len);
    this.lens = new Uint32Array(len);
    this.table = new Float64Array(len * 4);
    this.tmask = len * 2 - 1;
  }

  /**
   * Home bucket of (peer id, Message ID). Clients count Message IDs up (RFC 7252 §4.4), so 8
   * consecutive IDs of a peer share a run of 8 buckets (two cache lines): an insert, and the
   * eviction of the oldest entry, mostly land next to the previous one. The run is placed by a
   * multiplicative hash of (peer, MID / 8).
   */
  private hash(id: number, mid: number): number {
    let h = Math.imul(id ^ Math.imul((mid >>> 3) + 1, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    return ((h << 3) | (mid & 7)) & this.tmask;
  }

  /**
   * The key of the live entry of (p, mid), or -1. A bucket holds the tag (peer id, MID) beside
   * the sequence number, so a miss touches the table alone (one cache line, usually).
   */
  private find(p: Peer, mid: number, now: number): number {
    const t = this.table;
    const tag = p.id * 0x10000 + mid;
    let i = this.hash(p.id, mid);
    for (;;) {
      const v = t[2 * i]!;
      if (v === 0) return -1;
      if (t[2 * i + 1] === tag) {
        const seq = v - 1;
        const slot = seq & this.mask;
        // Peer ids wrap at 2^31: the owner check makes a reused id harmless.
        if (this.owners[slot] === p && this.expires[slot]! > now) return seq;
      }
      i = (i + 1) & this.tmask;
    }
  }

  private tableInsert(seq: number, id: number, mid: number): void {
    const t = this.table;
    let i = this.hash(id, mid);
    while (t[2 * i] !== 0) i = (i + 1) & this.tmask;
    t[2 * i] = seq + 1;
    t[2 * i + 1] = id * 0x10000 + mid;
  }

  /** Removes `seq` from the hash table, shifting later probes back (no tombstones). */
  private tableRemove(seq: number, id: number, mid: number): void {
    const t = this.table;
    const m = this.tmask;
    let i = this.hash(id, mid);
    while (t[2 * i] !== seq + 1) {
      if (t[2 * i] === 0) return;
      i = (i + 1) & m;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      const v = t[2 * j]!;
      if (v === 0) break;
      const tag = t[2 * j + 1]!;
      const k = this.hash(Math.floor(tag / 0x10000), tag % 0x10000);
      // Move bucket j into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? k <= i || k > j : k <= i && k > j) {
        t[2 * i] = v;
        t[2 * i + 1] = tag;
        i = j;
      }
    }
    t[2 * i] = 0;
  }

  /** Drops the oldest entries that are expired, and the oldest one if the table is full. */
  private evict(now: number): void {
    while (this.headSeq < this.nextSeq) {
      const seq = this.headSeq;
      const slot = seq & this.mask;
      if (this.nextSeq - seq < this.cap && this.expires[slot]! > now) return;
      const p = this.owners[slot]!;
      this.tableRemove(seq, p.id, this.mids[slot]!);
      this.owners[slot] = undefined;
      this.bufs[slot] = undefined;
      this.headSeq++;
      if (--p.refs === 0) this.peers.delete(p.key);
    }
  }

  /** Doubles the ring (and the hash table); entries keep their sequence numbers. */
  private grow(): void {
    const old = {
      expires: this.expires,
      mids: this.mids,
      flags: this.flags,
      owners: this.owners,
      kinds: this.kinds,
      bufs: this.bufs,
      offs: this.offs,
      lens: this.lens,
      mask: this.mask,
    };
    this.alloc(Math.min(this.len * 2, pow2AtLeast(this.cap)));
    for (let seq = this.headSeq; seq < this.nextSeq; seq++) {
      const o = seq & old.mask;
      const n = seq & this.mask;
      this.seqs[n] = seq;
      this.expires[n] = old.expires[o]!;
      this.mids[n] = old.mids[o]!;
      this.flags[n] = old.flags[o]!;
      this.owners[n] = old.owners[o];
      this.kinds[n] = old.kinds[o]!;
      this.bufs[n] = old.bufs[o];
      this.offs[n] = old.offs[o]!;
      this.lens[n] = old.lens[o]!;
      this.tableInsert(seq, old.owners[o]!.id, old.mids[o]!);
    }
  }
}
