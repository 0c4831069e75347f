/** CertificateRequest (RFC 5246 §7.4.4) as an ECDHE_ECDSA server sends it (RFC 4492 §5.5). */
import { ByteWriter } from '@m2mhub/core';
import { PkiErrors } from '../errors';
import { type PkiLimits, pkiLimits } from '../limits';
import { ECDSA_SHA256, type SignatureAndHash } from './signature-algorithms';
import { parseWhole, readList } from './wire';

/** RFC 4492 §5.5 ClientCertificateType.ecdsa_sign. */
export const CLIENT_CERTIFICATE_TYPE_ECDSA_SIGN = 64;

export interface CertificateRequest {
  certificateTypes: number[];
  signatureAlgorithms: SignatureAndHash[];
  /** DER Names of acceptable CAs; empty means any (RFC 5246 §7.4.4). */
  certificateAuthorities: Uint8Array[];
}

export function encodeCertificateRequest(m: Partial<CertificateRequest> = {}): Uint8Array {
  const types = m.certificateTypes ?? [CLIENT_CERTIFICATE_TYPE_ECDSA_SIGN];
  // Default ecdsa/sha256 only: the handshake keeps a SHA-256 transcript, which then suffices to verify.
  const algs = m.signatureAlgorithms ?? [ECDSA_SHA256];
  const cas = m.certificateAuthorities ?? [];
  const w = new ByteWriter(64).vector(1, Uint8Array.from(types)).u16(2 * algs.length);
  for (const a of algs) w.u8(a.hash).u8(a.signature);
  const at = w.reserve(2);
  const start = w.length;
  for (const dn of cas) w.vector(2, dn);
  w.patchU16(at, w.length - start);
  return w.finish();
}

export function parseCertificateRequest(body: Uint8Array, limitOverrides: Partial<PkiLimits> = {}): CertificateRequest {
  const limits = pkiLimits(limitOverrides);
  return parseWhole(body, 'CertificateRequest', (r) => {
    const certificateTypes = readList(r, 1, 1, 'certificate_types', (x) => x.u8());
    if (certificateTypes.length === 0) throw PkiErrors.decode('CertificateRequest: no certificate_types');
    const signatureAlgorithms = readList(r, 2, 2, 'supported_signature_algorithms', (x) => ({
      hash: x.u8(),
      signature: x.u8(),
    }));
    const casRaw = r.vector(2);
    const certificateAuthorities: Uint8Array[] = [];
    const ca = parseWhole(casRaw, 'certificate_authorities', (x) => {
      while (x.remaining > 0) {
        if (certificateAuthorities.length >= limits.maxCertificateAuthorities) {
          throw PkiErrors.decode(`more than ${limits.maxCertificateAuthorities} certificate_authorities`);
        }
        const dn = x.vector(2);
        if (dn.length === 0) throw PkiErrors.decode('empty DistinguishedName');
        certificateAuthorities.push(dn);
      }
      return certificateAuthorities;
    });
    return { certificateTypes, signatureAlgorithms, certificateAuthorities: ca };
  });
}
