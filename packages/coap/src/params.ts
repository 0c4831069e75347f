/**
 * RFC 7252 §4.8 transmission parameters and the derived times of §4.8.2, per endpoint.
 * All times in milliseconds.
 */
export interface TransmissionParameters {
  ackTimeoutMs: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  /** Outstanding interactions per peer (RFC 7252 §4.7). */
  nstart: number;
  defaultLeisureMs: number;
  /** RFC 7252 §4.8.2: the maximum time a datagram is expected to take to reach the peer. */
  maxLatencyMs: number;
  /** RFC 7252 §4.8.2: time from receiving a CON to sending its ACK (defaults to ACK_TIMEOUT). */
  processingDelayMs: number;
}

export interface DerivedParameters extends TransmissionParameters {
  /** ACK_TIMEOUT * (2 ** MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR */
  maxTransmitSpanMs: number;
  /** ACK_TIMEOUT * (2 ** (MAX_RETRANSMIT + 1) - 1) * ACK_RANDOM_FACTOR */
  maxTransmitWaitMs: number;
  /** 2 * MAX_LATENCY + PROCESSING_DELAY */
  maxRttMs: number;
  /** MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY */
  exchangeLifetimeMs: number;
  /** MAX_TRANSMIT_SPAN + MAX_LATENCY */
  nonLifetimeMs: number;
}

export const DEFAULT_TRANSMISSION: TransmissionParameters = {
  ackTimeoutMs: 2000,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  nstart: 1,
  defaultLeisureMs: 5000,
  maxLatencyMs: 100_000,
  processingDelayMs: 2000,
};

export function deriveParameters(overrides: Partial<TransmissionParameters> = {}): DerivedParameters {
  const p: TransmissionParameters = { ...DEFAULT_TRANSMISSION, ...overrides };
  if (overrides.processingDelayMs === undefined) p.processingDelayMs = p.ackTimeoutMs;
  if (!(p.ackTimeoutMs > 0) || !(p.ackRandomFactor >= 1) || !(p.maxRetransmit >= 0) || !(p.nstart >= 1)) {
    throw new RangeError('invalid CoAP transmission parameters');
  }
  const maxTransmitSpanMs = p.ackTimeoutMs * (2 ** p.maxRetransmit - 1) * p.ackRandomFactor;
  const maxTransmitWaitMs = p.ackTimeoutMs * (2 ** (p.maxRetransmit + 1) - 1) * p.ackRandomFactor;
  const maxRttMs = 2 * p.maxLatencyMs + p.processingDelayMs;
  return {
    ...p,
    maxTransmitSpanMs,
    maxTransmitWaitMs,
    maxRttMs,
    exchangeLifetimeMs: maxTransmitSpanMs + 2 * p.maxLatencyMs + p.processingDelayMs,
    nonLifetimeMs: maxTransmitSpanMs + p.maxLatencyMs,
  };
}

/** Every limit of an endpoint, with its default. */
export interface CoapLimits {
  /** Largest datagram accepted or sent (bytes). */
  maxMessageSize: number;
  maxOptions: number;
  /** Outstanding + queued confirmable exchanges per peer. */
  maxExchangesPerPeer: number;
  /** Outstanding + queued confirmable exchanges in total. */
  maxExchanges: number;
  /** Requests being handled at once (server role). */
  maxPendingRequests: number;
  /** Entries of the deduplication cache (peer + message ID). */
  dedupCacheSize: number;
  /** Preferred block size for Block1/Block2 (16..1024, a power of two). */
  blockSize: number;
  /** Largest reassembled body (Block1 in, Block2 in). */
  maxBodySize: number;
  maxConcurrentTransfers: number;
  /** A block-wise transfer (in either direction, server side) is forgotten after this idle time. */
  transferExpiryMs: number;
  /** Server: a handler slower than this gets an empty ACK first, then a separate CON response. */
  separateResponseDelayMs: number;
  /** Client: default overall deadline of `request` (includes retransmissions and blocks). */
  requestTimeoutMs: number;
  /** Client: token length for generated tokens (1..8). */
  tokenLength: number;
  maxObservations: number;
  /** Grace added to Max-Age before an observation counts as expired. */
  observeGraceMs: number;
  /** Which notifications arm Max-Age expiry: only those carrying Max-Age, all (default 60 s), or none. */
  observeExpiry: 'explicit' | 'always' | 'never';
}

export const DEFAULT_LIMITS: CoapLimits = {
  maxMessageSize: 1152 + 128,
  maxOptions: 64,
  maxExchangesPerPeer: 64,
  maxExchanges: 100_000,
  maxPendingRequests: 10_000,
  dedupCacheSize: 100_000,
  blockSize: 1024,
  maxBodySize: 8 * 1024 * 1024,
  maxConcurrentTransfers: 1000,
  transferExpiryMs: 120_000,
  separateResponseDelayMs: 1000,
  requestTimeoutMs: 93_000,
  tokenLength: 8,
  maxObservations: 100_000,
  observeGraceMs: 5000,
  observeExpiry: 'explicit',
};
