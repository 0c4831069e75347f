/**
 * RFC 7250 §3 client_certificate_type (19) and server_certificate_type (20) extension bodies,
 * and the server's choice among the types a client offers (RFC 7250 §4.1).
 */
import { ByteWriter } from '@m2mhub/core';
import { PkiErrors } from '../errors';
import { parseWhole, readList } from './wire';

/** RFC 7250 §3 / IANA TLS Certificate Types. */
export const CertificateType = { x509: 0, rawPublicKey: 2 } as const;
export type CertificateTypeId = (typeof CertificateType)[keyof typeof CertificateType];

/** ClientHello form: CertificateType client/server_certificate_types<1..2^8-1>. */
export function encodeCertificateTypeList(types: readonly number[]): Uint8Array {
  if (types.length === 0 || types.length > 255) throw PkiErrors.illegalParameter('1..255 certificate types');
  return new ByteWriter(1 + types.length).vector(1, Uint8Array.from(types)).finish();
}

export function parseCertificateTypeList(data: Uint8Array): number[] {
  const list = parseWhole(data, 'certificate_type list', (r) => readList(r, 1, 1, 'certificate_type list', (x) => x.u8()));
  if (list.length === 0) throw PkiErrors.decode('certificate_type list is empty');
  return list;
}

/** ServerHello form: a single CertificateType. */
export function encodeCertificateTypeSelection(type: number): Uint8Array {
  return Uint8Array.of(type);
}

export function parseCertificateTypeSelection(data: Uint8Array): number {
  return parseWhole(data, 'certificate_type', (r) => r.u8());
}

/**
 * The server's choice: the first type in the client's list (its preference order) that we
 * `supported`. An absent extension means X.509 only (RFC 7250 §4.1). No type in common is fatal
 * with unsupported_certificate (RFC 7250 §4.1, outcome 2).
 */
export function negotiateCertificateType(
  offered: readonly number[] | undefined,
  supported: readonly CertificateTypeId[],
): CertificateTypeId {
  const peer = offered ?? [CertificateType.x509];
  for (const t of peer) {
    const ours = supported.find((s) => s === t);
    if (ours !== undefined) return ours;
  }
  throw PkiErrors.unsupportedCertificate(`no common certificate type (offered ${peer.join(',')}, supported ${supported.join(',')})`);
}
