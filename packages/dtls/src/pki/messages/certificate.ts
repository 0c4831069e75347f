/**
 * The Certificate handshake message (type 11) in its two forms: an X.509 chain (RFC 5246
 * §7.4.2, leaf first) and an RFC 7250 §3 raw public key (one SubjectPublicKeyInfo).
 */
import { ByteWriter } from '@m2mhub/core';
import { PkiErrors } from '../errors';
import { type PkiLimits, pkiLimits } from '../limits';
import { CertificateType, type CertificateTypeId } from './certificate-type';
import { parseWhole } from './wire';

export type CertificateMessage =
  | { type: typeof CertificateType.x509; /** DER certificates, leaf first; empty when a client has none. */ chain: Uint8Array[] }
  | { type: typeof CertificateType.rawPublicKey; /** SubjectPublicKeyInfo DER. */ spki: Uint8Array };

export function encodeCertificateMessage(m: CertificateMessage): Uint8Array {
  const w = new ByteWriter(512);
  if (m.type === CertificateType.rawPublicKey) {
    // RFC 7250 §3: opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>.
    w.vector(3, m.spki);
    return w.finish();
  }
  // RFC 5246 §7.4.2: ASN.1Cert certificate_list<0..2^24-1>; opaque ASN.1Cert<1..2^24-1>.
  const at = w.reserve(3);
  const start = w.length;
  for (const der of m.chain) w.vector(3, der);
  w.patchU24(at, w.length - start);
  return w.finish();
}

/**
 * Parses a Certificate body of the negotiated `type`. Bounded by `maxCertificateMessageBytes`,
 * `maxChainLength` and `maxCertificateBytes`; the DER itself is parsed later by the validator.
 */
export function parseCertificateMessage(
  body: Uint8Array,
  type: CertificateTypeId,
  limitOverrides: Partial<PkiLimits> = {},
): CertificateMessage {
  const limits = pkiLimits(limitOverrides);
  if (body.length > limits.maxCertificateMessageBytes) {
    throw PkiErrors.decode(`Certificate message of ${body.length} bytes over ${limits.maxCertificateMessageBytes}`);
  }
  if (type === CertificateType.rawPublicKey) {
    return parseWhole(body, 'Certificate (raw public key)', (r) => {
      const spki = r.vector(3, limits.maxCertificateBytes);
      if (spki.length === 0) throw PkiErrors.decode('empty raw public key');
      return { type, spki };
    });
  }
  return parseWhole(body, 'Certificate', (r) => {
    const list = r.vector(3);
    if (r.remaining !== 0) throw PkiErrors.decode('Certificate: bytes after certificate_list');
    const chain: Uint8Array[] = [];
    let at = 0;
    while (at < list.length) {
      if (chain.length >= limits.maxChainLength) throw PkiErrors.invalidChain(`more than ${limits.maxChainLength} certificates`);
      if (at + 3 > list.length) throw PkiErrors.decode('Certificate: truncated certificate length');
      const len = (list[at]! << 16) | (list[at + 1]! << 8) | list[at + 2]!;
      if (len === 0) throw PkiErrors.decode('Certificate: empty ASN.1Cert');
      if (len > limits.maxCertificateBytes) throw PkiErrors.badCertificate(`certificate of ${len} bytes over ${limits.maxCertificateBytes}`);
      if (at + 3 + len > list.length) throw PkiErrors.decode('Certificate: certificate overruns the list');
      chain.push(list.subarray(at + 3, at + 3 + len));
      at += 3 + len;
    }
    return { type, chain };
  });
}
