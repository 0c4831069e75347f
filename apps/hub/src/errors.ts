import { defineError } from '@m2mhub/core';

export const HubErrors = {
  badUser: defineError('M2M_HUB_BAD_USER', 'invalid MQTT user in config'),
  listenFailed: defineError('M2M_HUB_LISTEN_FAILED', 'listener could not start'),
  apiPluginLate: defineError('M2M_HUB_API_PLUGIN_LATE', 'API plugins must be registered before the API starts'),
} as const;
