import { defineError } from '@m2mhub/core';

export const GatewayErrors = {
  unknownGateway: defineError('M2M_GATEWAY_UNKNOWN', 'no gateway with that name', { http: 404 }),
  duplicate: defineError('M2M_GATEWAY_DUPLICATE', 'a gateway with that name is already registered', { http: 409 }),
  badConfig: defineError('M2M_GATEWAY_BAD_CONFIG', 'invalid gateway config', { http: 400 }),
  badTopic: defineError('M2M_GATEWAY_BAD_TOPIC', 'invalid topic template', { http: 400 }),
} as const;
