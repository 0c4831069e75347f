/**
 * CertificateVerify (RFC 5246 §7.4.8): a DigitallySigned over handshake_messages, every
 * handshake message from ClientHello up to (not including) this one. In DTLS those are the
 * messages with their 12-byte handshake headers as if each were sent as one fragment
 * (RFC 6347 §4.2.6), and the HelloVerifyRequest exchange is left out (RFC 6347 §4.2.1).
 */
import { ByteWriter } from '@m2mhub/core';
import { type EcBackend, nobleEc } from '../ec-backend';
import { ecdsaSignDigest, ecdsaVerifyDigest, hashMessage } from '../ecdsa';
import { PkiErrors } from '../errors';
import { type DigitallySigned, ECDSA_SHA256, type SignatureAndHash, ecdsaHashOf, readDigitallySigned, writeDigitallySigned } from './signature-algorithms';
import { parseWhole } from './wire';

export function encodeCertificateVerify(ds: DigitallySigned): Uint8Array {
  const w = new ByteWriter(80);
  writeDigitallySigned(w, ds);
  return w.finish();
}

export function parseCertificateVerify(body: Uint8Array): DigitallySigned {
  return parseWhole(body, 'CertificateVerify', readDigitallySigned);
}

/**
 * The digest CertificateVerify signs: Hash(handshake_messages) with the hash of the chosen
 * SignatureAndHashAlgorithm (TLS 1.2 signs the messages, not the PRF hash). With ecdsa/sha256
 * this equals the running SHA-256 transcript hash the handshake already keeps for Finished.
 */
export function certificateVerifyDigest(handshakeMessages: Uint8Array, algorithm: SignatureAndHash = ECDSA_SHA256): Uint8Array {
  const hash = ecdsaHashOf(algorithm);
  if (!hash) throw PkiErrors.illegalParameter(`CertificateVerify algorithm ${algorithm.hash}/${algorithm.signature}`);
  return hashMessage(hash, handshakeMessages);
}

/**
 * Client side: the CertificateVerify body. Pass either the concatenated handshake messages or,
 * for ecdsa/sha256, the SHA-256 transcript digest (signed with noble: node:crypto cannot sign a
 * precomputed digest, so `ec` applies to the messages form only).
 */
export function signCertificateVerify(
  input: { privateKey: Uint8Array; algorithm?: SignatureAndHash; ec?: EcBackend } & (
    | { handshakeMessages: Uint8Array }
    | { transcriptDigest: Uint8Array }
  ),
): Uint8Array {
  const algorithm = input.algorithm ?? ECDSA_SHA256;
  if ('handshakeMessages' in input) {
    const hash = ecdsaHashOf(algorithm);
    if (!hash) throw PkiErrors.illegalParameter(`CertificateVerify algorithm ${algorithm.hash}/${algorithm.signature}`);
    const signature = (input.ec ?? nobleEc).sign(input.privateKey, input.handshakeMessages, hash);
    return encodeCertificateVerify({ algorithm, signature });
  }
  return encodeCertificateVerify({ algorithm, signature: ecdsaSignDigest(input.privateKey, input.transcriptDigest) });
}

/**
 * Server side: checks a parsed CertificateVerify against the client's authenticated public key.
 * `handshakeMessages` are needed when the client signed with a hash other than the one of
 * `transcriptDigest` (sha256). decrypt_error when the signature fails (RFC 5246 §7.2.2).
 */
export function verifyCertificateVerify(
  cv: DigitallySigned,
  input: { clientPublicKey: Uint8Array; ec?: EcBackend } & ({ handshakeMessages: Uint8Array } | { transcriptDigest: Uint8Array }),
): void {
  const hash = ecdsaHashOf(cv.algorithm);
  if (!hash) throw PkiErrors.illegalParameter(`CertificateVerify signed with ${cv.algorithm.hash}/${cv.algorithm.signature}`);
  const key = { curve: 'P-256' as const, point: input.clientPublicKey };
  let ok: boolean;
  if ('handshakeMessages' in input) ok = (input.ec ?? nobleEc).verify(key, input.handshakeMessages, cv.signature, hash);
  else if (hash === 'sha256') ok = ecdsaVerifyDigest({ ...key, signature: cv.signature }, input.transcriptDigest);
  else throw PkiErrors.illegalParameter(`CertificateVerify with ${hash} needs the handshake messages`);
  if (!ok) {
    throw PkiErrors.signature('CertificateVerify signature does not verify');
  }
}
