/**
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 5480 §2) for EC keys. An RFC 7250 raw public
 * key is exactly this structure; its SHA-256 fingerprint (hex) is the peer's identity.
 */
import { toHex } from '@m2mhub/core';
import { p256, p384 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { type DerElement, DerReader, Tag } from './asn1';
import { derBitString, derOid, derSequence } from './der-writer';
import { PkiErrors } from './errors';
import { Oid } from './oids';

export type EcCurve = 'P-256' | 'P-384';

export interface PublicKeyInfo {
  /** The SubjectPublicKeyInfo DER as received (the RFC 7250 raw public key). */
  spki: Uint8Array;
  /** Algorithm OID (id-ecPublicKey for the keys we can use). */
  algorithm: string;
  /** Named-curve OID from the algorithm parameters, when there is one. */
  curveOid?: string;
  /** Set when the key is an EC key on a curve we implement. */
  curve?: EcCurve;
  /** The public point, uncompressed SEC1 (0x04 || X || Y), checked to be on `curve`. */
  point?: Uint8Array;
}

const curves = { 'P-256': p256, 'P-384': p384 } as const;
const curveByOid: Readonly<Record<string, EcCurve>> = { [Oid.prime256v1]: 'P-256', [Oid.secp384r1]: 'P-384' };

/** Decodes and validates a SEC1 point on `curve`, returning it uncompressed (SEC 1 §2.3.4). */
export function decodeEcPoint(curve: EcCurve, bytes: Uint8Array): Uint8Array | undefined {
  try {
    return curves[curve].Point.fromBytes(bytes).toBytes(false);
  } catch {
    return undefined;
  }
}

/** Parses a SubjectPublicKeyInfo element (algorithm and key); unknown algorithms are kept, not rejected. */
export function parseSpkiElement(r: DerReader, el: DerElement): PublicKeyInfo {
  const s = r.enter(el);
  const alg = s.sequence('AlgorithmIdentifier');
  const algorithm = alg.oid(alg.next());
  const info: PublicKeyInfo = { spki: el.raw, algorithm };
  if (algorithm === Oid.ecPublicKey) {
    // RFC 5480 §2.1.1: parameters are ECParameters; only namedCurve is allowed.
    const curveOid = alg.oid(alg.expect(Tag.oid, 'namedCurve'));
    info.curveOid = curveOid;
    const curve = curveByOid[curveOid];
    if (curve) info.curve = curve;
  } else if (!alg.done) {
    alg.next(); // parameters of an algorithm we do not use (e.g. NULL for RSA)
  }
  alg.end('AlgorithmIdentifier');
  const bits = s.bitString(s.expect(Tag.bitString, 'subjectPublicKey'));
  s.end('SubjectPublicKeyInfo');
  if (info.curve) {
    if (bits.unusedBits !== 0) throw r.error('EC public key BIT STRING has unused bits');
    const point = decodeEcPoint(info.curve, bits.bytes);
    if (!point) throw r.error('EC public key is not a point on its curve');
    info.point = point;
  }
  return info;
}

/** Parses a DER SubjectPublicKeyInfo, requiring a P-256 key (what our cipher suites use). */
export function decodeP256Spki(der: Uint8Array): Uint8Array {
  if (der.length > 1024) throw PkiErrors.badCertificate('SubjectPublicKeyInfo too large');
  const r = DerReader.of(der);
  const info = parseSpkiElement(r, r.expect(Tag.sequence, 'SubjectPublicKeyInfo'));
  r.end('SubjectPublicKeyInfo');
  if (info.curve !== 'P-256' || !info.point) {
    throw PkiErrors.unsupportedCertificate(`public key is not an EC P-256 key (algorithm ${info.algorithm})`);
  }
  return info.point;
}

/** SubjectPublicKeyInfo DER of a P-256 public point (compressed or uncompressed input). */
export function encodeP256Spki(point: Uint8Array): Uint8Array {
  const p = decodeEcPoint('P-256', point);
  if (!p) throw PkiErrors.badKey('not a P-256 point');
  return derSequence(derSequence(derOid(Oid.ecPublicKey), derOid(Oid.prime256v1)), derBitString(p));
}

/** Hex SHA-256 of the SPKI DER: the `PeerIdentity.id` of a raw-public-key peer. */
export function spkiFingerprint(spki: Uint8Array): string {
  return toHex(sha256(spki));
}

/** Admin API form `{"rpk":{"publicKey":"<base64 SPKI DER>"}}`: validated SPKI and its fingerprint. */
export function parseRawPublicKeyBase64(b64: string): { spki: Uint8Array; point: Uint8Array; fingerprint: string } {
  const clean = b64.replace(/\s+/g, '');
  if (clean.length === 0 || clean.length > 2048 || !/^[A-Za-z0-9+/]+={0,2}$/.test(clean)) {
    throw PkiErrors.badKey('publicKey is not base64');
  }
  const der = new Uint8Array(Buffer.from(clean, 'base64'));
  const point = decodeP256Spki(der);
  // Re-encode so the fingerprint does not depend on the point form the caller sent.
  const spki = encodeP256Spki(point);
  return { spki, point, fingerprint: spkiFingerprint(spki) };
}

/** Internal: the curve implementation for a verified key. */
export function curveImpl(curve: EcCurve): typeof p256 {
  return curves[curve];
}

