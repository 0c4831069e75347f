import { defineError, type ErrorFactory } from '@m2mhub/core';

/**
 * TLS alert descriptions the PKI half raises (RFC 5246 §7.2.2). Kept here so this directory
 * has no dependency on the record/handshake modules.
 */
export const PkiAlert = {
  handshakeFailure: 40,
  badCertificate: 42,
  unsupportedCertificate: 43,
  certificateExpired: 45,
  illegalParameter: 47,
  unknownCa: 48,
  decodeError: 50,
  decryptError: 51,
} as const;

/**
 * Errors of certificate, raw-public-key and ECDHE_ECDSA processing. Each carries the alert the
 * handshake must send, so a failure cannot be raised without it. Codes are `M2M_DTLS_PKI_*` to
 * stay apart from the record/handshake codes of `../errors`.
 */
export const PkiErrors = {
  /** RFC 5246 §7.2.2 bad_certificate: "corrupt, contained signatures that did not verify". */
  badCertificate: defineError('M2M_DTLS_PKI_BAD_CERTIFICATE', 'malformed or invalid certificate', {
    alert: PkiAlert.badCertificate,
    http: 400,
  }),
  /** RFC 5246 §7.2.2 unsupported_certificate: algorithms or curves we do not implement (RSA, ...). */
  unsupportedCertificate: defineError('M2M_DTLS_PKI_UNSUPPORTED_CERTIFICATE', 'unsupported certificate', {
    alert: PkiAlert.unsupportedCertificate,
    http: 400,
  }),
  /** RFC 5246 §7.2.2 certificate_expired: "has expired or is not currently valid". */
  certificateExpired: defineError('M2M_DTLS_PKI_CERTIFICATE_EXPIRED', 'certificate expired or not yet valid', {
    alert: PkiAlert.certificateExpired,
    http: 400,
  }),
  /** RFC 5246 §7.2.2 unknown_ca: the chain does not lead to a trusted root. */
  unknownCa: defineError('M2M_DTLS_PKI_UNKNOWN_CA', 'certificate chain does not lead to a trusted root', {
    alert: PkiAlert.unknownCa,
    http: 400,
  }),
  /** An intermediate without the CA flag, a broken path length, a chain longer than allowed. */
  invalidChain: defineError('M2M_DTLS_PKI_INVALID_CHAIN', 'invalid certificate chain', {
    alert: PkiAlert.badCertificate,
    http: 400,
  }),
  /** RFC 7250: a raw public key that is not in the raw-public-key store. */
  untrustedKey: defineError('M2M_DTLS_PKI_UNTRUSTED_KEY', 'raw public key not trusted', {
    alert: PkiAlert.badCertificate,
    http: 403,
  }),
  /** RFC 5246 §7.2.2 decode_error: a handshake message body that does not parse. */
  decode: defineError('M2M_DTLS_PKI_DECODE_ERROR', 'malformed ECDHE_ECDSA handshake message', {
    alert: PkiAlert.decodeError,
    http: 400,
  }),
  /** RFC 5246 §7.2.2 decrypt_error: a ServerKeyExchange or CertificateVerify signature that fails. */
  signature: defineError('M2M_DTLS_PKI_SIGNATURE_INVALID', 'handshake signature did not verify', {
    alert: PkiAlert.decryptError,
    http: 400,
  }),
  /** RFC 5246 §7.2.2 illegal_parameter: a curve, point or algorithm outside what was negotiated. */
  illegalParameter: defineError('M2M_DTLS_PKI_ILLEGAL_PARAMETER', 'illegal ECDHE_ECDSA parameter', {
    alert: PkiAlert.illegalParameter,
    http: 400,
  }),
  /** RFC 5246 §7.2.2 handshake_failure: no certificate type or signature algorithm in common. */
  noCommonParameters: defineError('M2M_DTLS_PKI_NO_COMMON_PARAMETERS', 'no certificate type or algorithm in common', {
    alert: PkiAlert.handshakeFailure,
    http: 400,
  }),
  /** A PEM file or private key that cannot be used (configuration, not wire). */
  badKey: defineError('M2M_DTLS_PKI_BAD_KEY', 'unusable key or PEM data', { http: 400 }),
} as const satisfies Record<string, ErrorFactory>;
