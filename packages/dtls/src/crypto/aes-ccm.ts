/**
 * AES-CCM (RFC 3610) for any nonce of 7..13 bytes (L = 15 - nonce length). TLS/DTLS uses a
 * 12-byte nonce, salt(4) || explicit nonce(8), so L = 3 (RFC 6655 §3):
 * 8-byte tag for the _CCM_8 suites, 16 for _CCM. Two implementations behind one interface:
 * `nobleCcm` builds CCM on @noble/ciphers' AES block (the tested reference) and `nodeCcm`
 * uses node:crypto's OpenSSL (the hot path; see apps/bench/src/benches/dtls-cipher.ts).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { cbc, ecb } from '@noble/ciphers/aes.js';
import { CoreErrors, timingSafeEqual } from '@m2mhub/core';
import type { Aead } from './aead';
import { ccmMacInputLength, checkCcmParams, writeCcmMacInput } from './ccm-format';


function validNonce(nonce: Uint8Array): boolean {
  return nonce.length >= 7 && nonce.length <= 13;
}

/** CCM on the noble AES block: CBC-MAC over B_0 || encoded AAD || message, CTR with A_i (RFC 3610 §2.2-2.3). */
export function nobleCcm(key: Uint8Array, tagLength: number): Aead {
  checkCcmParams(key, tagLength);
  const zeroIv = new Uint8Array(16);

  function mac(nonce: Uint8Array, aad: Uint8Array, msg: Uint8Array): Uint8Array {
    const b = new Uint8Array(ccmMacInputLength(aad.length, msg.length));
    writeCcmMacInput(b, nonce, aad, msg, tagLength);
    const chained = cbc(key, zeroIv, { disablePadding: true }).encrypt(b);
    return chained.subarray(chained.length - 16, chained.length - 16 + tagLength);
  }

  /** Key stream S_0 || S_1 || ... for `n` bytes of message (RFC 3610 §2.3). */
  function keystream(nonce: Uint8Array, n: number): Uint8Array {
    const L = 15 - nonce.length;
    const blocks = 1 + Math.ceil(n / 16);
    const a = new Uint8Array(blocks * 16);
    for (let i = 0; i < blocks; i++) {
      const o = i * 16;
      a[o] = L - 1;
      a.set(nonce, o + 1);
      a[o + 14] = (i >>> 8) & 0xff;
      a[o + 15] = i & 0xff;
    }
    // A fresh ECB instance per call: noble refuses to reuse one (its misuse guard).
    return ecb(key, { disablePadding: true }).encrypt(a);
  }

  return {
    tagLength,
    seal(nonce, aad, plaintext) {
      if (!validNonce(nonce)) throw CoreErrors.invalidArgument('CCM nonce must be 7..13 bytes');
      const t = mac(nonce, aad, plaintext);
      const s = keystream(nonce, plaintext.length);
      const out = new Uint8Array(plaintext.length + tagLength);
      for (let i = 0; i < plaintext.length; i++) out[i] = plaintext[i]! ^ s[16 + i]!;
      for (let i = 0; i < tagLength; i++) out[plaintext.length + i] = t[i]! ^ s[i]!;
      return out;
    },
    open(nonce, aad, sealed) {
      if (!validNonce(nonce) || sealed.length < tagLength) return undefined;
      const n = sealed.length - tagLength;
      const s = keystream(nonce, n);
      const msg = new Uint8Array(n);
      for (let i = 0; i < n; i++) msg[i] = sealed[i]! ^ s[16 + i]!;
      const t = mac(nonce, aad, msg);
      const u = new Uint8Array(tagLength);
      for (let i = 0; i < tagLength; i++) u[i] = t[i]! ^ s[i]!;
      return timingSafeEqual(u, sealed.subarray(n)) ? msg : undefined;
    },
  };
}

/** CCM through node:crypto (OpenSSL). */
export function nodeCcm(key: Uint8Array, tagLength: number): Aead {
  checkCcmParams(key, tagLength);
  const alg = key.length === 16 ? 'aes-128-ccm' : 'aes-256-ccm';
  return {
    tagLength,
    seal(nonce, aad, plaintext) {
      const c = createCipheriv(alg, key, nonce, { authTagLength: tagLength });
      c.setAAD(aad, { plaintextLength: plaintext.length });
      const body = c.update(plaintext);
      c.final();
      const tag = c.getAuthTag();
      const out = new Uint8Array(body.length + tag.length);
      out.set(body, 0);
      out.set(tag, body.length);
      return out;
    },
    open(nonce, aad, sealed) {
      if (!validNonce(nonce) || sealed.length < tagLength) return undefined;
      const n = sealed.length - tagLength;
      try {
        const d = createDecipheriv(alg, key, nonce, { authTagLength: tagLength });
        d.setAuthTag(sealed.subarray(n));
        d.setAAD(aad, { plaintextLength: n });
        const out = d.update(sealed.subarray(0, n));
        d.final();
        return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      } catch {
        return undefined;
      }
    },
  };
}
