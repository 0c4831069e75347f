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
 * The ring starts small and doubles up to `capacity`, so a quiet endpoint stays small.
 */

/** Identifies one received message (its arrival sequence number); stale once evicted. */
export type DedupKey = number;

interface Peer {
  readonly key: string;
  /** Hash input; identity is the object itself. */
  readonly id: number;
  refs: number;
}

const INITIAL_RING = 256;

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
  private replies!: (Uint8Array | undefined)[];
  /** The hash table: seq + 1 of a slot, 0 when free. Twice the ring length. */
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
      p ??= { key: peerKey, id: this.nextPeerId++ | 0, refs: 0 };
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
    this.replies[slot] = undefined;
    this.tableInsert(seq, this.hash(p, mid));
    return seq;
  }

  /** Duplicates of `key` seen so far (saturates at 127); 0 for an evicted key. */
  hits(key: DedupKey): number {
    const slot = key & this.mask;
    return this.seqs[slot] === key && key >= this.headSeq ? this.flags[slot]! >> 1 : 0;
  }

  reply(key: DedupKey): Uint8Array | undefined {
    const slot = key & this.mask;
    return this.seqs[slot] === key && key >= this.headSeq ? this.replies[slot] : undefined;
  }

  /** Records the reply to replay for duplicates; a no-op once the entry was evicted. */
  setReply(key: DedupKey, data: Uint8Array): void {
    const slot = key & this.mask;
    if (this.seqs[slot] === key && key >= this.headSeq) this.replies[slot] = data;
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
    this.replies = new Array<Uint8Array | undefined>(len).fill(undefined);
    this.table = new Float64Array(len * 2);
    this.tmask = len * 2 - 1;
  }

  private hash(p: Peer, mid: number): number {
    let h = Math.imul(p.id ^ Math.imul(mid + 1, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.tmask;
  }

  /** The key of the live entry of (p, mid), or -1. */
  private find(p: Peer, mid: number, now: number): number {
    const t = this.table;
    let i = this.hash(p, mid);
    for (;;) {
      const v = t[i]!;
      if (v === 0) return -1;
      const seq = v - 1;
      const slot = seq & this.mask;
      if (this.owners[slot] === p && this.mids[slot] === mid && this.expires[slot]! > now) return seq;
      i = (i + 1) & this.tmask;
    }
  }

  private tableInsert(seq: number, home: number): void {
    const t = this.table;
    let i = home;
    while (t[i] !== 0) i = (i + 1) & this.tmask;
    t[i] = seq + 1;
  }

  /** Removes `seq` from the hash table, shifting later probes back (no tombstones). */
  private tableRemove(seq: number, home: number): void {
    const t = this.table;
    const m = this.tmask;
    let i = home;
    while (t[i] !== seq + 1) {
      if (t[i] === 0) return;
      i = (i + 1) & m;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      const v = t[j]!;
      if (v === 0) break;
      const s = (v - 1) & this.mask;
      const k = this.hash(this.owners[s]!, this.mids[s]!);
      // Move t[j] into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? k <= i || k > j : k <= i && k > j) {
        t[i] = v;
        i = j;
      }
    }
    t[i] = 0;
  }

  /** Drops the oldest entries that are expired, and the oldest one if the table is full. */
  private evict(now: number): void {
    while (this.headSeq < this.nextSeq) {
      const seq = this.headSeq;
      const slot = seq & this.mask;
      if (this.nextSeq - seq < this.cap && this.expires[slot]! > now) return;
      const p = this.owners[slot]!;
      this.tableRemove(seq, this.hash(p, this.mids[slot]!));
      this.owners[slot] = undefined;
      this.replies[slot] = undefined;
      this.headSeq++;
      if (--p.refs === 0) this.peers.delete(p.key);
    }
  }

  /** Doubles the ring (and the hash table); entries keep their sequence numbers. */
  private grow(): void {
    const old = { seqs: this.seqs, expires: this.expires, mids: this.mids, flags: this.flags, owners: this.owners, replies: this.replies, mask: this.mask };
    this.alloc(Math.min(this.len * 2, pow2AtLeast(this.cap)));
    for (let seq = this.headSeq; seq < this.nextSeq; seq++) {
      const o = seq & old.mask;
      const n = seq & this.mask;
      this.seqs[n] = seq;
      this.expires[n] = old.expires[o]!;
      this.mids[n] = old.mids[o]!;
      this.flags[n] = old.flags[o]!;
      this.owners[n] = old.owners[o];
      this.replies[n] = old.replies[o];
      this.tableInsert(seq, this.hash(old.owners[o]!, old.mids[o]!));
    }
  }
}
