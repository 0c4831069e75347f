/** Typed errors of the REST API (DESIGN.md §4), each mapped to its HTTP status. */
import { defineError } from '@m2mhub/core';

export const ApiErrors = {
  unauthorized: defineError('M2M_API_UNAUTHORIZED', 'authentication required', { http: 401 }),
  badCredentials: defineError('M2M_API_BAD_CREDENTIALS', 'bad user name or password', { http: 401 }),
  badToken: defineError('M2M_API_BAD_TOKEN', 'invalid or expired token', { http: 401 }),
  tooManyAttempts: defineError('M2M_API_TOO_MANY_ATTEMPTS', 'too many failed logins from this address, retry later', { http: 429 }),
  forbidden: defineError('M2M_API_FORBIDDEN', 'not allowed with these credentials', { http: 403 }),
  apiKeyExists: defineError('M2M_API_KEY_EXISTS', 'an API key with this name exists', { http: 409 }),
  apiKeyNotFound: defineError('M2M_API_KEY_NOT_FOUND', 'no API key with this name', { http: 404 }),
  tooManyApiKeys: defineError('M2M_API_TOO_MANY_KEYS', 'the number of API keys is at its limit (api.auth.max_api_keys)', { http: 409 }),
} as const;
