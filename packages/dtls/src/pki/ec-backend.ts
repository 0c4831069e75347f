/**
 * The elliptic-curve operations of ECDHE_ECDSA behind one small interface, with two
 * implementations: `nobleEc` (@noble/curves, pure JS, the default and reference) and `nodeEc`
 * (node:crypto / OpenSSL, ~40x faster per operation here: 20 us sign, 50 us verify, 75 us ECDH
 * against 0.9 ms, 2 ms, 3 ms). Create node backends per server/client with `createNodeEc()`:
 * each holds its own bounded key-object cache, there is no module-global state.
 */
import { type KeyObject, createECDH, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { concatBytes } from '@m2mhub/core';
import { p256 } from '@noble/curves/nist.js';
import { ecdsaSignDigest, ecdsaVerifyDigest, hashMessage } from './ecdsa';
import { PkiErrors } from './errors';
import type { EcCurve } from './spki';
import type { SignatureHash } from './x509';

export interface EcBackend {
  readonly name: 'noble' | 'node';
  /** DER ECDSA signature over `message` hashed with `hash`, with a P-256 private key (32 bytes). */
  sign(privateKey: Uint8Array, message: Uint8Array, hash: SignatureHash): Uint8Array;
  /** Whether `signature` (DER) is valid for `message` hashed with `hash`; false for malformed input. */
  verify(key: { curve: EcCurve; point: Uint8Array }, message: Uint8Array, signature: Uint8Array, hash: SignatureHash): boolean;
  /** Uncompressed P-256 public point of a private key. */
  publicKey(privateKey: Uint8Array): Uint8Array;
  /** ECDH on P-256: the 32-byte x-coordinate of privateKey * peerPoint (peerPoint already validated). */
  ecdh(privateKey: Uint8Array, peerPoint: Uint8Array): Uint8Array;
}

export const nobleEc: EcBackend = {
  name: 'noble',
  sign: (privateKey, message, hash) => ecdsaSignDigest(privateKey, hashMessage(hash, message)),
  verify: (key, message, signature, hash) => ecdsaVerifyDigest({ ...key, signature }, hashMessage(hash, message)),
  publicKey: (privateKey) => {
    if (!p256.utils.isValidSecretKey(privateKey)) throw PkiErrors.badKey('not a P-256 private key');
    return p256.getPublicKey(privateKey, false);
  },
  ecdh: (privateKey, peerPoint) => p256.getSharedSecret(privateKey, peerPoint, true).slice(1),
};

// RFC 5480 §2 SubjectPublicKeyInfo prefixes for uncompressed points (SEQUENCE, AlgorithmIdentifier, BIT STRING header).
const SPKI_PREFIX: Readonly<Record<EcCurve, Uint8Array>> = {
  'P-256': Uint8Array.from(Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')),
  'P-384': Uint8Array.from(Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex')),
};
// RFC 5958 PrivateKeyInfo around an RFC 5915 ECPrivateKey without the optional public key.
const PKCS8_P256_PREFIX = Uint8Array.from(
  Buffer.from('3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420', 'hex'),
);

/** node:crypto with a bounded cache of imported keys (long-term keys are reused every handshake). */
export function createNodeEc(maxCachedKeys = 256): EcBackend {
  const cache = new Map<string, KeyObject>();
  const cached = (id: string, make: () => KeyObject): KeyObject => {
    let k = cache.get(id);
    if (!k) {
      k = make();
      if (cache.size >= maxCachedKeys) cache.delete(cache.keys().next().value as string);
      cache.set(id, k);
    }
    return k;
  };
  const ecdhFor = (privateKey: Uint8Array) => {
    if (privateKey.length !== 32) throw PkiErrors.badKey('P-256 private keys are 32 bytes');
    const e = createECDH('prime256v1');
    try {
      e.setPrivateKey(privateKey);
    } catch {
      throw PkiErrors.badKey('not a P-256 private key');
    }
    return e;
  };
  return {
    name: 'node',
    sign(privateKey, message, hash) {
      if (privateKey.length !== 32) throw PkiErrors.badKey('P-256 private keys are 32 bytes');
      // Keyed by a digest of the scalar so the cache never holds the secret as a string.
      const id = `k:${Buffer.from(hashMessage('sha256', privateKey)).toString('base64')}`;
      const key = cached(id, () => createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_P256_PREFIX, privateKey)), format: 'der', type: 'pkcs8' }));
      return new Uint8Array(nodeSign(hash, message, key));
    },
    verify(k, message, signature, hash) {
      try {
        const spki = concatBytes(SPKI_PREFIX[k.curve], k.point);
        const key = cached(`p:${Buffer.from(k.point).toString('base64')}`, () => createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }));
        return nodeVerify(hash, message, key, signature);
      } catch {
        return false;
      }
    },
    publicKey: (privateKey) => new Uint8Array(ecdhFor(privateKey).getPublicKey()),
    ecdh: (privateKey, peerPoint) => new Uint8Array(ecdhFor(privateKey).computeSecret(peerPoint)),
  };
}

