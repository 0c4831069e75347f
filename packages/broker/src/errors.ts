import { defineError } from '@m2mhub/core';

export const BrokerErrors = {
  listenFailed: defineError('M2M_BROKER_LISTEN_FAILED', 'listener could not start'),
  tlsConfig: defineError('M2M_BROKER_TLS_CONFIG', 'TLS certificate or key unusable'),
  packetTooLarge: defineError('M2M_BROKER_PACKET_TOO_LARGE', 'MQTT packet over the size limit', { http: 413 }),
  malformedPacket: defineError('M2M_BROKER_MALFORMED_PACKET', 'malformed MQTT packet'),
  tooManyConnections: defineError('M2M_BROKER_TOO_MANY_CONNECTIONS', 'connection limit reached', { connack: 3 }),
  badCredentials: defineError('M2M_BROKER_BAD_CREDENTIALS', 'bad user name or password', { connack: 4, http: 401 }),
  notAuthorized: defineError('M2M_BROKER_NOT_AUTHORIZED', 'not authorized', { connack: 5, http: 403 }),
  persistence: defineError('M2M_BROKER_PERSISTENCE', 'broker persistence failed'),
  invalidTopic: defineError('M2M_BROKER_INVALID_TOPIC', 'invalid topic or topic filter', { http: 400 }),
  badPasswordHash: defineError('M2M_BROKER_BAD_PASSWORD_HASH', 'stored password hash is malformed'),
} as const;
