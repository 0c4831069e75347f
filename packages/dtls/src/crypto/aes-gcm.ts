/** AES-GCM (RFC 5288 for TLS) behind the Aead interface; 12-byte nonce, 16-byte tag. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import type { Aead } from './aead';

const TAG = 16;

export function nodeGcm(key: Uint8Array): Aead {
  const alg = key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
  return {
    tagLength: TAG,
    seal(nonce, aad, plaintext) {
      const c = createCipheriv(alg, key, nonce, { authTagLength: TAG });
      c.setAAD(aad);
      const body = c.update(plaintext);
      c.final();
      const tag = c.getAuthTag();
      const out = new Uint8Array(body.length + TAG);
      out.set(body, 0);
      out.set(tag, body.length);
      return out;
    },
    open(nonce, aad, sealed) {
      if (sealed.length < TAG) return undefined;
      const n = sealed.length - TAG;
      try {
        const d = createDecipheriv(alg, key, nonce, { authTagLength: TAG });
        d.setAuthTag(sealed.subarray(n));
        d.setAAD(aad);
        const out = d.update(sealed.subarray(0, n));
        d.final();
        return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      } catch {
        return undefined;
      }
    },
  };
}

export function nobleGcm(key: Uint8Array): Aead {
  return {
    tagLength: TAG,
    seal: (nonce, aad, plaintext) => gcm(key, nonce, aad).encrypt(plaintext),
    open(nonce, aad, sealed) {
      try {
        return gcm(key, nonce, aad).decrypt(sealed);
      } catch {
        return undefined;
      }
    },
  };
}
