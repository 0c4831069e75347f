/** Every DTLS limit and timer as a named option with its default. */
import type { CipherBackend } from './crypto/aead';

export interface DtlsLimits {
  /** Handshakes in progress at once (after the cookie round trip); more ClientHellos are ignored. */
  maxHandshakes: number;
  /** Established sessions in total; a completed handshake beyond it evicts the least recently active. */
  maxSessions: number;
  /** A handshake not finished after this long is abandoned (RFC 6347 §4.2.4 leaves it to us). */
  handshakeTimeoutMs: number;
  /** A session with no authenticated record for this long is forgotten. */
  idleTimeoutMs: number;
  /** Largest record plaintext we accept and announce in record_size_limit (RFC 8449). */
  maxRecordSize: number;
  /** Largest handshake message we reassemble (PSK needs < 1 KiB; certificate chains more). */
  maxHandshakeMessage: number;
  /** Path MTU we fragment handshake flights to (RFC 6347 §4.1.1.1). */
  mtu: number;
  /** Records parsed from one datagram at most. */
  maxRecordsPerDatagram: number;
  /** Future handshake messages buffered out of order (RFC 6347 §4.2.3). */
  maxHandshakeAhead: number;
  /** Records queued while an async step (credential lookup) runs. */
  maxQueuedRecords: number;
  /** Initial flight retransmission timeout, doubled on each retransmission (RFC 6347 §4.2.4.1). */
  initialRetransmitMs: number;
  /** Upper bound of the doubling retransmission timer (RFC 6347 §4.2.4.1: 60 s). */
  maxRetransmitMs: number;
  /** How long a cookie secret is used before it rotates; the previous one is still accepted. */
  cookieSecretLifetimeMs: number;
  /** Sessions kept for resumption by session ID. 0 disables resumption. */
  sessionCacheSize: number;
  /** How long a session stays resumable. */
  sessionCacheLifetimeMs: number;
  /** Length of the connection ids we issue (RFC 9146); 0 disables CID. */
  cidLength: number;
  /** Longest PSK identity accepted in ClientKeyExchange (RFC 4279 §5.3 allows 2^16-1; LwM2M ones are short). */
  maxPskIdentity: number;
  /** Period of the sweep that expires idle sessions and stale handshakes. */
  sweepIntervalMs: number;
  /** A session with no record received for this long frees its AES contexts (rebuilt on the next record). */
  cipherIdleReleaseMs: number;
  /** Bytes of CSPRNG output drawn at once for handshake randoms when no Random is injected; 0 draws per call. */
  randomPoolSize: number;
}

export const DEFAULT_LIMITS: DtlsLimits = {
  maxHandshakes: 1000,
  maxSessions: 100_000,
  handshakeTimeoutMs: 30_000,
  idleTimeoutMs: 24 * 3600_000,
  maxRecordSize: 16_384,
  maxHandshakeMessage: 16_384,
  mtu: 1200,
  maxRecordsPerDatagram: 32,
  maxHandshakeAhead: 8,
  maxQueuedRecords: 32,
  initialRetransmitMs: 1000,
  maxRetransmitMs: 60_000,
  cookieSecretLifetimeMs: 60_000,
  sessionCacheSize: 10_000,
  sessionCacheLifetimeMs: 24 * 3600_000,
  cidLength: 6,
  maxPskIdentity: 256,
  sweepIntervalMs: 5_000,
  cipherIdleReleaseMs: 60_000,
  randomPoolSize: 2048,
};

export function resolveLimits(partial: Partial<DtlsLimits> | undefined): DtlsLimits {
  return { ...DEFAULT_LIMITS, ...(partial ?? {}) };
}

/**
 * The record cipher implementation: node:crypto on persistent contexts (CCM_8 as CBC-MAC + CTR,
 * no OpenSSL context per record); `pnpm bench dtls-cipher` compares it with a context per record
 * ('node') and with noble.
 */
export const DEFAULT_CIPHER_BACKEND: CipherBackend = 'node-stream';
