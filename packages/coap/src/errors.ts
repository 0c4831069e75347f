/** Typed errors of the CoAP stack, each with a stable code and its CoAP wire mapping. */
import { defineError } from '@m2mhub/core';

export const CoapErrors = {
  /** RFC 7252 §3: the datagram is not a well-formed CoAP message. */
  formatError: defineError('M2M_COAP_FORMAT_ERROR', 'malformed CoAP message', { coap: '4.00', http: 400 }),
  /** RFC 7252 §5.4.1: an unrecognised critical option. */
  badOption: defineError('M2M_COAP_BAD_OPTION', 'unrecognised critical option', { coap: '4.02', http: 400 }),
  messageTooLarge: defineError('M2M_COAP_MESSAGE_TOO_LARGE', 'CoAP message over the configured maximum size', {
    coap: '4.13',
    http: 413,
  }),
  /** RFC 7959 §2.9.3. */
  bodyTooLarge: defineError('M2M_COAP_BODY_TOO_LARGE', 'body over the configured maximum size', {
    coap: '4.13',
    http: 413,
  }),
  tooManyExchanges: defineError('M2M_COAP_TOO_MANY_EXCHANGES', 'too many outstanding CoAP exchanges', {
    coap: '5.03',
    http: 503,
  }),
  tooManyTransfers: defineError('M2M_COAP_TOO_MANY_TRANSFERS', 'too many concurrent block-wise transfers', {
    coap: '5.03',
    http: 503,
  }),
  /** RFC 7252 §4.2: the peer gave up after MAX_RETRANSMIT or the request deadline passed. */
  timeout: defineError('M2M_COAP_TIMEOUT', 'CoAP peer did not answer', { coap: '5.04', http: 504 }),
  /** RFC 7252 §4.2: the peer answered a confirmable message with RST. */
  reset: defineError('M2M_COAP_RESET', 'CoAP peer reset the exchange', { http: 502 }),
  cancelled: defineError('M2M_COAP_CANCELLED', 'CoAP request cancelled', { http: 499 }),
  closed: defineError('M2M_COAP_CLOSED', 'CoAP endpoint is closed', { http: 503 }),
  /** RFC 7959 §2.4: blocks of one body did not fit together (ETag change, gap, bad size). */
  blockMismatch: defineError('M2M_COAP_BLOCK_MISMATCH', 'block-wise transfer out of sequence', {
    coap: '4.08',
    http: 502,
  }),
  /** RFC 6690 §2: the link-format text does not follow the grammar. */
  linkFormat: defineError('M2M_COAP_LINK_FORMAT', 'malformed link-format', { coap: '4.00', http: 400 }),
  invalidRequest: defineError('M2M_COAP_INVALID_REQUEST', 'invalid CoAP request', { coap: '4.00', http: 400 }),
} as const;
