import { defineError } from '@m2mhub/core';

/**
 * Typed errors of the LwM2M object model and content-format codecs, with the CoAP response
 * code a server sends when one of them rejects a request (LwM2M Core §6, RFC 7252 §5.9).
 */
export const Lwm2mErrors = {
  badPath: defineError('M2M_LWM2M_BAD_PATH', 'invalid LwM2M path', { coap: '4.00', http: 400 }),
  unsupportedFormat: defineError('M2M_LWM2M_UNSUPPORTED_FORMAT', 'unsupported content format', {
    coap: '4.15',
    http: 415,
  }),
  notAcceptable: defineError('M2M_LWM2M_NOT_ACCEPTABLE', 'content format cannot carry this data', {
    coap: '4.06',
    http: 406,
  }),
  malformedPayload: defineError('M2M_LWM2M_MALFORMED_PAYLOAD', 'malformed payload', { coap: '4.00', http: 400 }),
  typeMismatch: defineError('M2M_LWM2M_TYPE_MISMATCH', 'value does not fit the resource type', {
    coap: '4.00',
    http: 400,
  }),
  unknownObject: defineError('M2M_LWM2M_UNKNOWN_OBJECT', 'unknown object', { coap: '4.04', http: 404 }),
  unknownResource: defineError('M2M_LWM2M_UNKNOWN_RESOURCE', 'unknown resource', { coap: '4.04', http: 404 }),
  payloadLimit: defineError('M2M_LWM2M_PAYLOAD_LIMIT', 'payload exceeds a codec limit', { coap: '4.13', http: 413 }),
  badObjectXml: defineError('M2M_LWM2M_BAD_OBJECT_XML', 'invalid object definition XML', { http: 400 }),
} as const;
