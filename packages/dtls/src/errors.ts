import { defineError, type ErrorFactory, M2MError } from '@m2mhub/core';
import { AlertDescription } from './constants';

/**
 * DTLS errors. Each maps to the alert that goes on the wire, so a handshake error cannot be
 * raised without the alert to send (RFC 5246 §7.2).
 */
export const DtlsErrors = {
  decode: defineError('M2M_DTLS_DECODE_ERROR', 'malformed DTLS message', { alert: AlertDescription.decodeError }),
  unexpectedMessage: defineError('M2M_DTLS_UNEXPECTED_MESSAGE', 'unexpected DTLS handshake message', {
    alert: AlertDescription.unexpectedMessage,
  }),
  handshakeFailure: defineError('M2M_DTLS_HANDSHAKE_FAILURE', 'no acceptable DTLS parameters', {
    alert: AlertDescription.handshakeFailure,
  }),
  illegalParameter: defineError('M2M_DTLS_ILLEGAL_PARAMETER', 'illegal DTLS parameter', {
    alert: AlertDescription.illegalParameter,
  }),
  protocolVersion: defineError('M2M_DTLS_PROTOCOL_VERSION', 'unsupported DTLS version', {
    alert: AlertDescription.protocolVersion,
  }),
  unknownPskIdentity: defineError('M2M_DTLS_UNKNOWN_PSK_IDENTITY', 'unknown PSK identity', {
    alert: AlertDescription.unknownPskIdentity,
  }),
  decryptError: defineError('M2M_DTLS_DECRYPT_ERROR', 'Finished verification failed', {
    alert: AlertDescription.decryptError,
  }),
  badRecordMac: defineError('M2M_DTLS_BAD_RECORD_MAC', 'record failed authentication', {
    alert: AlertDescription.badRecordMac,
  }),
  internal: defineError('M2M_DTLS_INTERNAL_ERROR', 'internal DTLS error', { alert: AlertDescription.internalError }),
  accessDenied: defineError('M2M_DTLS_ACCESS_DENIED', 'peer not allowed', { alert: AlertDescription.accessDenied }),
  badCertificate: defineError('M2M_DTLS_BAD_CERTIFICATE', 'peer certificate rejected', {
    alert: AlertDescription.badCertificate,
  }),
  alertReceived: defineError('M2M_DTLS_ALERT_RECEIVED', 'peer sent a fatal alert'),
  handshakeTimeout: defineError('M2M_DTLS_HANDSHAKE_TIMEOUT', 'DTLS handshake timed out'),
  closed: defineError('M2M_DTLS_CLOSED', 'DTLS session closed'),
} as const satisfies Record<string, ErrorFactory>;

/** The alert description to send for an error raised during a handshake. */
export function alertFor(err: unknown): number {
  if (err instanceof M2MError && err.wire.alert !== undefined) return err.wire.alert;
  // Parser under-runs from ByteReader are decode errors (RFC 5246 §7.2.2 decode_error).
  if (err instanceof M2MError && (err.code === 'M2M_CORE_BUFFER_UNDERFLOW' || err.code === 'M2M_CORE_LIMIT_EXCEEDED'))
    return AlertDescription.decodeError;
  return AlertDescription.internalError;
}
