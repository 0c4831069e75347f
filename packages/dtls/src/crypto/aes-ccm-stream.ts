/**
 * AES-CCM (RFC 3610) through node:crypto without a cipher object per record.
 *
 * node's `aes-128-ccm` takes the nonce at creation, so the one-shot backend (`nodeCcm`) builds
 * an OpenSSL context per record (3-4 us each). CCM is CBC-MAC plus CTR over the same AES key
 * (RFC 3610 §2.2-2.3), so this backend keeps two contexts per key for the key's lifetime:
 *
 * - CBC-MAC with a zero IV on a persistent `aes-*-cbc` encryptor (no padding). The context
 *   chains from its last output block C, so XOR-ing C into B_0 makes the next `update()`
 *   compute CBC-MAC from a zero IV again: E(B_0 ^ C ^ C) = E(B_0). The last output block of
 *   B_0 || AAD blocks || message blocks is T (before truncation to M bytes), and it becomes the
 *   new C.
 * - The CTR key stream S_0 || S_1 || ... as one `update()` on a persistent `aes-*-ecb`
 *   encryptor over the concatenated counter blocks A_0 || A_1 || ... (stateless in ECB).
 *
 * Two native calls per record, no context creation. Checked against the RFC 3610 vectors and
 * against node's own aes-128-ccm on random inputs (test/crypto.test.ts).
 */
import { type Cipher, createCipheriv } from 'node:crypto';
import { CoreErrors } from '@m2mhub/core';
import type { Aead } from './aead';
import { ccmMacInputLength, checkCcmParams, pad16, writeCcmMacInput } from './ccm-format';

const BLOCK = 16;

/**
 * `n` bytes carved from node's Buffer pool (no ArrayBuffer backing store of its own per record:
 * those cost a calloc and GC tracking each), returned as a plain Uint8Array so `slice()` keeps
 * its copying semantics. Contents are uninitialised: the caller writes every byte.
 */
export function pooledBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/**
 * Scratch for B_0 || AAD || message and for the counter blocks, shared by every instance: each
 * use is synchronous and complete before the next, so one pair serves all sessions (no
 * per-session buffers: idle sessions stay small). Grows to the largest record seen.
 */
const scratch = { macIn: Buffer.alloc(512), ctrIn: Buffer.alloc(512) };

/**
 * Longest message for this nonce: l(m) has L = 15 - nonce length bytes (RFC 3610 §2), and our
 * counter blocks carry a 2-byte counter (2^16 blocks, far beyond any DTLS record).
 */
function maxMessage(nonce: Uint8Array): number {
  const L = 15 - nonce.length;
  return Math.min(L < 4 ? 2 ** (8 * L) - 1 : Number.MAX_SAFE_INTEGER, 0xffff * BLOCK);
}

export class StreamCcm implements Aead {
  /** The two contexts, created on first use and dropped by `release()` (idle sessions). */
  private cbc: Cipher | undefined;
  private ecb: Cipher | undefined;
  /** The CBC context's chaining value: its last output block (zero for a fresh context). */
  private readonly chain = new Uint8Array(BLOCK);
  private readonly key: Uint8Array;

  constructor(
    key: Uint8Array,
    readonly tagLength: number,
  ) {
    checkCcmParams(key, tagLength);
    this.key = key.slice();
  }

  private contexts(): { cbc: Cipher; ecb: Cipher } {
    if (!this.cbc || !this.ecb) {
      const bits = this.key.length === 16 ? 128 : 256;
      this.cbc = createCipheriv(`aes-${bits}-cbc`, this.key, new Uint8Array(BLOCK));
      this.cbc.setAutoPadding(false);
      this.chain.fill(0);
      this.ecb = createCipheriv(`aes-${bits}-ecb`, this.key, null);
      this.ecb.setAutoPadding(false);
    }
    return { cbc: this.cbc, ecb: this.ecb };
  }

  /** Frees the OpenSSL contexts (about 3 KB per session for both directions); the next record recreates them. */
  release(): void {
    this.cbc = undefined;
    this.ecb = undefined;
  }

  /** T = CBC-MAC(B_0 || l(a) || a || pad || m || pad), full 16 bytes (RFC 3610 §2.2). */
  private mac(nonce: Uint8Array, aad: Uint8Array, msg: Uint8Array): Uint8Array {
    const need = ccmMacInputLength(aad.length, msg.length);
    if (scratch.macIn.length < need) scratch.macIn = Buffer.alloc(pad16(need * 2));
    const b = scratch.macIn;
    const len = writeCcmMacInput(b, nonce, aad, msg, this.tagLength);
    // Contexts first: a rebuilt CBC context restarts the chain from zero.
    const { cbc } = this.contexts();
    // Undo the context's chaining so this message's CBC-MAC starts from a zero IV.
    const c = this.chain;
    for (let i = 0; i < BLOCK; i++) b[i]! ^= c[i]!;
    const out = cbc.update(b.subarray(0, len));
    const t = out.subarray(out.length - BLOCK);
    c.set(t);
    return t;
  }

  /** S_0 || S_1 || ... covering `n` message bytes: E(A_i), A_i = flags || nonce || i (RFC 3610 §2.3). */
  private keystream(nonce: Uint8Array, n: number): Buffer {
    const L = 15 - nonce.length;
    const blocks = 1 + ((n + 15) >>> 4);
    const len = blocks * BLOCK;
    if (scratch.ctrIn.length < len) scratch.ctrIn = Buffer.alloc(pad16(len * 2));
    const a = scratch.ctrIn;
    for (let i = 0, o = 0; i < blocks; i++, o += BLOCK) {
      a[o] = L - 1;
      a.set(nonce, o + 1);
      // Bytes between the nonce and the 2-byte counter (L > 2) stay zero: counters stay below 2^16.
      for (let j = o + 1 + nonce.length; j < o + 14; j++) a[j] = 0;
      a[o + 14] = (i >>> 8) & 0xff;
      a[o + 15] = i & 0xff;
    }
    return this.contexts().ecb.update(a.subarray(0, len));
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const out = pooledBytes(plaintext.length + this.tagLength);
    this.sealInto(nonce, aad, plaintext, out, 0);
    return out;
  }

  /** Writes ciphertext || tag at `out[offset]` (the record path builds the record in place). */
  sealInto(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    if (nonce.length < 7 || nonce.length > 13) throw CoreErrors.invalidArgument('CCM nonce must be 7..13 bytes');
    if (plaintext.length > maxMessage(nonce)) throw CoreErrors.invalidArgument('CCM message too long');
    const t = this.mac(nonce, aad, plaintext);
    const s = this.keystream(nonce, plaintext.length);
    const n = plaintext.length;
    for (let i = 0; i < n; i++) out[offset + i] = plaintext[i]! ^ s[BLOCK + i]!;
    for (let i = 0; i < this.tagLength; i++) out[offset + n + i] = t[i]! ^ s[i]!;
  }

  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    if (nonce.length < 7 || nonce.length > 13 || sealed.length < this.tagLength) return undefined;
    const n = sealed.length - this.tagLength;
    if (n > maxMessage(nonce)) return undefined;
    const s = this.keystream(nonce, n);
    // Decrypt in place into the key stream buffer (S_1.. is no longer needed after this).
    const msg = s.subarray(BLOCK, BLOCK + n);
    for (let i = 0; i < n; i++) msg[i] = sealed[i]! ^ msg[i]!;
    const t = this.mac(nonce, aad, msg);
    // Constant-time tag comparison.
    let diff = 0;
    for (let i = 0; i < this.tagLength; i++) diff |= t[i]! ^ s[i]! ^ sealed[n + i]!;
    // A plain Uint8Array view: Buffer's slice() would share memory where callers expect a copy.
    return diff === 0 ? new Uint8Array(msg.buffer, msg.byteOffset, n) : undefined;
  }
}

/** CCM on persistent node:crypto contexts (see the file comment). */
export function streamCcm(key: Uint8Array, tagLength: number): StreamCcm {
  return new StreamCcm(key, tagLength);
}
