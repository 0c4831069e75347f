import { defineError } from '@m2mhub/core';

/** Errors of the LwM2M gateway; `coap` is what goes into a reply's `code`. */
export const GwErrors = {
  badCommand: defineError('M2M_LWGW_BAD_COMMAND', 'bad command', { coap: '4.00', http: 400 }),
  unknownEndpoint: defineError('M2M_LWGW_UNKNOWN_ENDPOINT', 'endpoint not registered', { coap: '4.04', http: 404 }),
  queueFull: defineError('M2M_LWGW_QUEUE_FULL', 'command queue of the device is full', { coap: '5.03', http: 503 }),
  expired: defineError('M2M_LWGW_COMMAND_EXPIRED', 'queued command expired before the device woke up', {
    coap: '5.04',
    http: 504,
  }),
  badConfig: defineError('M2M_LWGW_BAD_CONFIG', 'invalid lwm2m gateway config', { http: 400 }),
  identityMismatch: defineError('M2M_LWGW_IDENTITY_MISMATCH', 'the DTLS identity is bound to another endpoint', {
    coap: '4.03',
    http: 403,
  }),
  badObject: defineError('M2M_LWGW_BAD_OBJECT', 'object definition refused', { http: 400 }),
  badCredential: defineError('M2M_LWGW_BAD_CREDENTIAL', 'invalid device credential', { http: 400 }),
} as const;
