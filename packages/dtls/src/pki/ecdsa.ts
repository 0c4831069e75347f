/**
 * ECDSA with DER signatures (RFC 5480 §2.2 / RFC 4492 §5.4 Ecdsa-Sig-Value) over @noble/curves.
 * Signing is deterministic (RFC 6979) on P-256; verification accepts P-256 and P-384 keys (a CA
 * may use P-384) and high-S signatures, as OpenSSL produces them.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { DerReader, Tag } from './asn1';
import { derSequence, derUnsignedInteger } from './der-writer';
import { PkiErrors } from './errors';
import { type EcCurve, curveImpl } from './spki';
import type { SignatureHash } from './x509';

const FIELD_BYTES: Readonly<Record<EcCurve, number>> = { 'P-256': 32, 'P-384': 48 };

export function hashMessage(hash: SignatureHash, message: Uint8Array): Uint8Array {
  return hash === 'sha256' ? sha256(message) : hash === 'sha384' ? sha384(message) : sha512(message);
}

/**
 * Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } to the fixed-width r || s form.
 * Returns undefined when the encoding is malformed or a component does not fit the curve.
 */
export function ecdsaDerToCompact(der: Uint8Array, curve: EcCurve = 'P-256'): Uint8Array | undefined {
  const size = FIELD_BYTES[curve];
  if (der.length > 2 * size + 16) return undefined;
  try {
    const r = DerReader.of(der, { fail: PkiErrors.signature });
    const s = r.sequence('Ecdsa-Sig-Value');
    const parts = [s.unsignedInteger(s.expect(Tag.integer, 'r')), s.unsignedInteger(s.expect(Tag.integer, 's'))];
    s.end('Ecdsa-Sig-Value');
    r.end('Ecdsa-Sig-Value');
    const out = new Uint8Array(2 * size);
    for (const [i, p] of parts.entries()) {
      if (p.length > size) return undefined;
      out.set(p, (i + 1) * size - p.length);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Fixed-width r || s to a DER Ecdsa-Sig-Value. */
export function ecdsaCompactToDer(compact: Uint8Array): Uint8Array {
  if (compact.length === 0 || compact.length % 2 !== 0) throw PkiErrors.badKey('compact signature of odd length');
  const half = compact.length / 2;
  return derSequence(derUnsignedInteger(compact.subarray(0, half)), derUnsignedInteger(compact.subarray(half)));
}

/** Signs `message` with a P-256 private key (32-byte scalar), hashing with `hash`; returns DER. */
export function ecdsaSign(privateKey: Uint8Array, message: Uint8Array, hash: SignatureHash = 'sha256'): Uint8Array {
  return ecdsaSignDigest(privateKey, hashMessage(hash, message));
}

/** Signs an already computed digest (e.g. a running handshake hash) with a P-256 key; returns DER. */
export function ecdsaSignDigest(privateKey: Uint8Array, digest: Uint8Array): Uint8Array {
  if (!p256.utils.isValidSecretKey(privateKey)) throw PkiErrors.badKey('not a P-256 private key');
  // RFC 6979 deterministic k; noble truncates a longer digest as FIPS 186-4 §6.4 says.
  const compact = p256.sign(digest, privateKey, { prehash: false, lowS: true, format: 'compact' });
  return ecdsaCompactToDer(compact);
}

export interface EcdsaVerifyInput {
  curve: EcCurve;
  /** Uncompressed public point. */
  point: Uint8Array;
  /** DER Ecdsa-Sig-Value. */
  signature: Uint8Array;
}

/** Verifies a DER signature over a digest; false for any malformed input. */
export function ecdsaVerifyDigest(input: EcdsaVerifyInput, digest: Uint8Array): boolean {
  const compact = ecdsaDerToCompact(input.signature, input.curve);
  if (!compact) return false;
  try {
    return curveImpl(input.curve).verify(compact, digest, input.point, { prehash: false, lowS: false, format: 'compact' });
  } catch {
    return false;
  }
}

/** Verifies a DER signature over `message` hashed with `hash`. */
export function ecdsaVerify(input: EcdsaVerifyInput, message: Uint8Array, hash: SignatureHash = 'sha256'): boolean {
  return ecdsaVerifyDigest(input, hashMessage(hash, message));
}

/** The public point (uncompressed) of a P-256 private key. */
export function p256PublicKey(privateKey: Uint8Array): Uint8Array {
  if (!p256.utils.isValidSecretKey(privateKey)) throw PkiErrors.badKey('not a P-256 private key');
  return p256.getPublicKey(privateKey, false);
}

