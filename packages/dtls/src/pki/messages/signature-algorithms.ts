/**
 * SignatureAndHashAlgorithm and DigitallySigned (RFC 5246 §7.4.1.4.1, §4.7), plus the
 * signature_algorithms extension body. We sign with ecdsa/sha256 and accept ecdsa with
 * sha256, sha384 and sha512.
 */
import { type ByteReader, ByteWriter } from '@m2mhub/core';
import { PkiErrors } from '../errors';
import type { SignatureHash } from '../x509';
import { parseWhole, readList } from './wire';

/** RFC 5246 §7.4.1.4.1 HashAlgorithm. */
export const HashAlgorithm = { sha256: 4, sha384: 5, sha512: 6 } as const;
/** RFC 5246 §7.4.1.4.1 SignatureAlgorithm. */
export const SignatureAlgorithmId = { ecdsa: 3 } as const;

export interface SignatureAndHash {
  hash: number;
  signature: number;
}

export const ECDSA_SHA256: SignatureAndHash = { hash: HashAlgorithm.sha256, signature: SignatureAlgorithmId.ecdsa };

/** What we offer and accept, in preference order. */
export const SUPPORTED_ECDSA_ALGORITHMS: readonly SignatureAndHash[] = [
  ECDSA_SHA256,
  { hash: HashAlgorithm.sha384, signature: SignatureAlgorithmId.ecdsa },
  { hash: HashAlgorithm.sha512, signature: SignatureAlgorithmId.ecdsa },
];

/** The hash function of an ECDSA SignatureAndHashAlgorithm we accept, else undefined. */
export function ecdsaHashOf(alg: SignatureAndHash): SignatureHash | undefined {
  if (alg.signature !== SignatureAlgorithmId.ecdsa) return undefined;
  if (alg.hash === HashAlgorithm.sha256) return 'sha256';
  if (alg.hash === HashAlgorithm.sha384) return 'sha384';
  if (alg.hash === HashAlgorithm.sha512) return 'sha512';
  return undefined;
}

export interface DigitallySigned {
  algorithm: SignatureAndHash;
  /** DER Ecdsa-Sig-Value. */
  signature: Uint8Array;
}

export function readDigitallySigned(r: ByteReader): DigitallySigned {
  const hash = r.u8();
  const signature = r.u8();
  const sig = r.vector(2);
  if (sig.length === 0) throw PkiErrors.decode('empty signature');
  return { algorithm: { hash, signature }, signature: sig };
}

export function writeDigitallySigned(w: ByteWriter, ds: DigitallySigned): void {
  w.u8(ds.algorithm.hash).u8(ds.algorithm.signature).vector(2, ds.signature);
}

/** signature_algorithms extension body: supported_signature_algorithms<2..2^16-2>. */
export function encodeSignatureAlgorithms(algs: readonly SignatureAndHash[] = SUPPORTED_ECDSA_ALGORITHMS): Uint8Array {
  const w = new ByteWriter(2 + 2 * algs.length).u16(2 * algs.length);
  for (const a of algs) w.u8(a.hash).u8(a.signature);
  return w.finish();
}

export function parseSignatureAlgorithms(data: Uint8Array): SignatureAndHash[] {
  const list = parseWhole(data, 'signature_algorithms', (r) =>
    readList(r, 2, 2, 'signature_algorithms', (x) => ({ hash: x.u8(), signature: x.u8() })),
  );
  if (list.length === 0) throw PkiErrors.decode('signature_algorithms: empty list');
  return list;
}

/**
 * The algorithm to sign ServerKeyExchange with for a peer that offered `offered`
 * (RFC 5246 §7.4.1.4.1: an absent extension means {sha1,ecdsa}, which we do not do, so an absent
 * list picks ecdsa/sha256, which every TLS 1.2 ECDSA peer accepts). handshake_failure when
 * nothing is in common.
 */
export function selectSignatureAlgorithm(offered: readonly SignatureAndHash[] | undefined): SignatureAndHash {
  if (!offered) return ECDSA_SHA256;
  // Our preference order (sha256 first); a peer that only takes sha384/sha512 gets those.
  for (const ours of SUPPORTED_ECDSA_ALGORITHMS) {
    if (offered.some((o) => o.hash === ours.hash && o.signature === ours.signature)) return ours;
  }
  throw PkiErrors.noCommonParameters('peer accepts no ecdsa signature algorithm we support');
}
