/**
 * Record protection for one direction of one epoch: AEAD (RFC 5246 §6.2.3.3 with the nonce of
 * RFC 5288 §3 / RFC 6655 §3) or AES-CBC + HMAC-SHA256 MAC-then-encrypt (RFC 5246 §6.2.3.2).
 * With a connection id the additional data follows RFC 9146 §5.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { cbc } from '@noble/ciphers/aes.js';
import type { Random } from '@m2mhub/core';
import { timingSafeEqual } from '@m2mhub/core';
import { ContentType } from '../constants';
import type { Aead, CipherBackend } from '../crypto/aead';
import { nobleCcm, nodeCcm } from '../crypto/aes-ccm';
import { pooledBytes, streamCcm } from '../crypto/aes-ccm-stream';
import { nobleGcm, nodeGcm } from '../crypto/aes-gcm';
import { hmacSha256 } from '../crypto/prf';
import type { CipherSuite } from '../crypto/suites';
import { writeEpochSeq } from './codec';

export interface RecordProtection {
  /** Most bytes a protected record adds to its plaintext. */
  readonly overhead: number;
  /**
   * Returns `headroom` bytes (left zero for the caller's record header) followed by the
   * protected fragment, so the record is built without another copy.
   */
  seal(type: number, version: number, epoch: number, seq: number, cid: Uint8Array | undefined, plaintext: Uint8Array, headroom?: number): Uint8Array;
  /** Returns the plaintext, or undefined when the record fails authentication. */
  open(type: number, version: number, epoch: number, seq: number, cid: Uint8Array | undefined, fragment: Uint8Array): Uint8Array | undefined;
  /** Frees native cipher state of an idle session (rebuilt on the next record). */
  release(): void;
}

export interface DirectionKeys {
  macKey: Uint8Array;
  key: Uint8Array;
  iv: Uint8Array;
}

/**
 * The MAC/AAD prefix: seq_num || type || version || length (RFC 5246 §6.2.3.3), or with a CID
 * seq_num_placeholder || tls12_cid || cid_length || tls12_cid || version || epoch || seq || cid || length
 * (RFC 9146 §5).
 */
export function additionalData(
  type: number,
  version: number,
  epoch: number,
  seq: number,
  cid: Uint8Array | undefined,
  length: number,
): Uint8Array {
  if (!cid || cid.length === 0) {
    const ad = new Uint8Array(13);
    writeEpochSeq(ad, 0, epoch, seq);
    ad[8] = type;
    ad[9] = version >>> 8;
    ad[10] = version & 0xff;
    ad[11] = length >>> 8;
    ad[12] = length & 0xff;
    return ad;
  }
  const ad = new Uint8Array(8 + 3 + 2 + 8 + cid.length + 2);
  ad.fill(0xff, 0, 8);
  ad[8] = ContentType.tls12Cid;
  ad[9] = cid.length;
  ad[10] = ContentType.tls12Cid;
  ad[11] = version >>> 8;
  ad[12] = version & 0xff;
  writeEpochSeq(ad, 13, epoch, seq);
  ad.set(cid, 21);
  ad[21 + cid.length] = length >>> 8;
  ad[22 + cid.length] = length & 0xff;
  return ad;
}

function aeadFor(suite: CipherSuite, key: Uint8Array, backend: CipherBackend): Aead {
  if (suite.cipher === 'ccm8') {
    if (backend === 'node-stream') return streamCcm(key, 8);
    return backend === 'node' ? nodeCcm(key, 8) : nobleCcm(key, 8);
  }
  return backend === 'noble' ? nobleGcm(key) : nodeGcm(key);
}

const EXPLICIT_NONCE = 8;

class AeadProtection implements RecordProtection {
  readonly overhead: number;
  constructor(
    private readonly aead: Aead,
    private readonly salt: Uint8Array,
  ) {
    this.overhead = EXPLICIT_NONCE + aead.tagLength;
  }
  release(): void {
    this.aead.release?.();
  }
  private nonce(explicit: Uint8Array): Uint8Array {
    const n = new Uint8Array(12);
    n.set(this.salt, 0);
    n.set(explicit, 4);
    return n;
  }
  seal(type: number, version: number, epoch: number, seq: number, cid: Uint8Array | undefined, plaintext: Uint8Array, headroom = 0): Uint8Array {
    // RFC 6655 §3 / RFC 5288 §3: nonce_explicit is the 64-bit epoch||sequence of the record.
    const nonce = new Uint8Array(12);
    nonce.set(this.salt, 0);
    writeEpochSeq(nonce, 4, epoch, seq);
    const aad = additionalData(type, version, epoch, seq, cid, plaintext.length);
    if (this.aead.sealInto) {
      // The record is built in place in a pooled buffer: no off-heap allocation, no copy.
      const rec = pooledBytes(headroom + EXPLICIT_NONCE + plaintext.length + this.aead.tagLength);
      rec.fill(0, 0, headroom);
      rec.set(nonce.subarray(4), headroom);
      this.aead.sealInto(nonce, aad, plaintext, rec, headroom + EXPLICIT_NONCE);
      return rec;
    }
    const sealed = this.aead.seal(nonce, aad, plaintext);
    const out = new Uint8Array(headroom + EXPLICIT_NONCE + sealed.length);
    out.set(nonce.subarray(4), headroom);
    out.set(sealed, headroom + EXPLICIT_NONCE);
    return out;
  }
  open(type: number, version: number, epoch: number, seq: number, cid: Uint8Array | undefined, fragment: Uint8Array): Uint8Array | undefined {
    const n = fragment.length - EXPLICIT_NONCE - this.aead.tagLength;
    if (n < 0) return undefined;
    return this.aead.open(
      this.nonce(fragment.subarray(0, EXPLICIT_NONCE)),
      additionalData(type, version, epoch, seq, cid, n),
      fragment.subarray(EXPLICIT_NONCE),
    );
  }
}

const MAC = 32;
const BLOCK = 16;

/** AES-128-CBC with HMAC-SHA256, MAC-then-encrypt, explicit per-record IV (RFC 5246 §6.2.3.2). */
class CbcHmacProtection implements RecordProtection {
  readonly overhead = BLOCK + MAC + BLOCK;
  release(): void {}
  constructor(
    private readonly keys: DirectionKeys,
    private readonly backend: CipherBackend,
    private readonly random: Random,
  ) {}
  private crypt(encrypt: boolean, iv: Uint8Array, data: Uint8Array): Uint8Array {
    if (this.backend === 'noble') {
      const c = cbc(this.keys.key, iv, { disablePadding: true });
      return encrypt ? c.encrypt(data) : c.decrypt(data);
    }
    const c = encrypt ? createCipheriv('aes-128-cbc', this.keys.key, iv) : createDecipheriv('aes-128-cbc', this.keys.key, iv);
    c.setAutoPadding(false);
    const a = c.update(data);
    const b = c.final();
    const out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }
  seal(type: number, version: number, epoch: number, seq: number, cid: Uint8Array | undefined, plaintext: Uint8Array, headroom = 0): Uint8Array {
    const mac = hmacSha256(this.keys.macKey, additionalData(type, version, epoch, seq, cid, plaintext.length), plaintext);
    const unpadded = plaintext.length + MAC + 1;
    const pad = (BLOCK - (unpadded % BLOCK)) % BLOCK;
    const body = new Uint8Array(unpadded + pad);
    body.set(plaintext, 0);
    body.set(mac, plaintext.length);
    body.fill(pad, plaintext.length + MAC);
    const iv = this.random.bytes(BLOCK);
    const ct = this.crypt(true, iv, body);
    const out = new Uint8Array(headroom + BLOCK + ct.length);
    out.set(iv, headroom);
    out.set(ct, headroom + BLOCK);
    return out;
  }
  open(type: number, version: number, epoch: number, seq: number, cid: Uint8Array | undefined, fragment: Uint8Array): Uint8Array | undefined {
    if (fragment.length < BLOCK + MAC + BLOCK || fragment.length % BLOCK !== 0) return undefined;
    const body = this.crypt(false, fragment.subarray(0, BLOCK), fragment.subarray(BLOCK));
    const pad = body[body.length - 1]!;
    // Check padding and MAC both, whatever the padding says, to keep timing uniform-ish
    // (RFC 5246 §6.2.3.2 implementation note); failures are silent drops anyway (RFC 6347 §4.1.2.7).
    let padOk = pad + 1 + MAC <= body.length;
    const usePad = padOk ? pad : 0;
    for (let i = body.length - 1 - usePad; i < body.length; i++) if (body[i] !== usePad) padOk = false;
    const n = body.length - usePad - 1 - MAC;
    const plaintext = body.subarray(0, n);
    const mac = hmacSha256(this.keys.macKey, additionalData(type, version, epoch, seq, cid, n), plaintext);
    const macOk = timingSafeEqual(mac, body.subarray(n, n + MAC));
    return padOk && macOk ? plaintext : undefined;
  }
}

export function createProtection(suite: CipherSuite, keys: DirectionKeys, backend: CipherBackend, random: Random): RecordProtection {
  if (suite.cipher === 'cbc_sha256') return new CbcHmacProtection(keys, backend, random);
  return new AeadProtection(aeadFor(suite, keys.key, backend), keys.iv);
}
