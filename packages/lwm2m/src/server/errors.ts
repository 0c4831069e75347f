import { defineError } from '@m2mhub/core';

/**
 * Errors of the LwM2M server role, each with its wire mapping (CoAP code answered to a
 * device, HTTP status for the admin API). Codes are stable: the gateway and the API put
 * them in replies.
 */
export const ServerErrors = {
  /** LwM2M Core §6.2.1: `ep` is mandatory in Register. */
  missingEndpoint: defineError('M2M_LWM2M_MISSING_ENDPOINT', 'register without an endpoint name', { coap: '4.00', http: 400 }),
  badRegistration: defineError('M2M_LWM2M_BAD_REGISTRATION', 'invalid registration parameters', { coap: '4.00', http: 400 }),
  /** LwM2M Transport 1.1 §6.4.3: an unsupported LwM2M version is answered 4.12 Precondition Failed. */
  unsupportedVersion: defineError('M2M_LWM2M_UNSUPPORTED_VERSION', 'unsupported LwM2M version', { coap: '4.12', http: 412 }),
  /** DESIGN.md §6: a DTLS identity is bound to its endpoint name. */
  identityMismatch: defineError('M2M_LWM2M_IDENTITY_MISMATCH', 'identity is bound to another endpoint', { coap: '4.03', http: 403 }),
  securityRequired: defineError('M2M_LWM2M_SECURITY_REQUIRED', 'plain UDP registration refused (security required)', { coap: '4.03', http: 403 }),
  unknownRegistration: defineError('M2M_LWM2M_UNKNOWN_REGISTRATION', 'no such registration', { coap: '4.04', http: 404 }),
  notRegistered: defineError('M2M_LWM2M_NOT_REGISTERED', 'endpoint is not registered', { coap: '4.04', http: 404 }),
  invalidRequest: defineError('M2M_LWM2M_INVALID_REQUEST', 'invalid device management request', { coap: '4.00', http: 400 }),
  queueFull: defineError('M2M_LWM2M_QUEUE_FULL', 'request queue of a sleeping device is full', { coap: '5.03', http: 503 }),
  queueExpired: defineError('M2M_LWM2M_QUEUE_EXPIRED', 'queued request expired before the device woke up', { http: 504 }),
  deviceTimeout: defineError('M2M_LWM2M_DEVICE_TIMEOUT', 'device did not answer', { http: 504 }),
  deviceReset: defineError('M2M_LWM2M_DEVICE_RESET', 'device answered with a reset', { http: 502 }),
  badResponse: defineError('M2M_LWM2M_BAD_RESPONSE', 'device sent a payload that could not be decoded', { http: 502 }),
  unknownObservation: defineError('M2M_LWM2M_UNKNOWN_OBSERVATION', 'no such observation', { http: 404 }),
  deregistered: defineError('M2M_LWM2M_DEREGISTERED', 'the registration ended before the request was sent', { http: 410 }),
  noBootstrapConfig: defineError('M2M_LWM2M_NO_BOOTSTRAP_CONFIG', 'no bootstrap configuration for this endpoint', { coap: '4.00', http: 404 }),
  bootstrapFailed: defineError('M2M_LWM2M_BOOTSTRAP_FAILED', 'bootstrap session failed', { http: 502 }),
} as const;
