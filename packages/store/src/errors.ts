import { defineError } from '@m2mhub/core';

export const StoreErrors = {
  queueFull: defineError('M2M_STORE_QUEUE_FULL', 'queue is full', { coap: '5.03', http: 507 }),
  invalidKey: defineError('M2M_STORE_INVALID_KEY', 'invalid key or namespace', { coap: '4.00', http: 400 }),
  valueTooLarge: defineError('M2M_STORE_VALUE_TOO_LARGE', 'value too large', { coap: '4.13', http: 413 }),
  invalidValue: defineError('M2M_STORE_INVALID_VALUE', 'value is not JSON-serializable', { coap: '4.00', http: 400 }),
  closed: defineError('M2M_STORE_CLOSED', 'store is not open', { coap: '5.03', http: 503 }),
  corrupt: defineError('M2M_STORE_CORRUPT', 'stored data could not be decoded', { coap: '5.00', http: 500 }),
  openFailed: defineError('M2M_STORE_OPEN_FAILED', 'could not open the store', { http: 503 }),
} as const;
