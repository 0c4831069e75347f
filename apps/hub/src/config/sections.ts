/** The small sections: api, store, cluster, log, shutdown. */
import { duration } from './lwm2m';
import { NODE_ID_RE } from './node-id';
import { bool, host, int, oneOf, optional, port } from './schema';

export const apiSection = {
  enabled: bool(true, 'REST API and dashboard listener on'),
  port: port(18083, 'REST API port'),
  bind: host('0.0.0.0', 'REST API bind address'),
  docs: bool(true, 'serve OpenAPI and Swagger UI at /api-docs'),
  body_limit: int(1024 * 1024, 1024, 64 * 1024 * 1024, 'largest request body in bytes'),
  token_ttl: duration(3600, 'lifetime of a Bearer token from POST /api/v5/login'),
  auth: {
    enabled: bool(true, 'require credentials on every API route but /api/v5/status, /api/v5/login and /api-docs (off: development only)'),
    max_failures: int(5, 1, 1_000_000, 'failed password checks (login or Basic) per source address before it is refused for the rest of failure_window'),
    failure_window: duration(60, 'window counted from an address\'s first failed password check'),
    max_tracked_addresses: int(10_000, 1, 10_000_000, 'most source addresses the failed-login limiter remembers (oldest forgotten first)'),
    max_api_keys: int(100, 0, 100_000, 'most API keys'),
    cache_ttl: duration(60, 'how long a verified admin password is trusted for Basic auth without running scrypt again (0: always run it); a password change voids it'),
    cache_max_entries: int(1000, 0, 1_000_000, 'most verified admin credentials remembered (oldest forgotten first)'),
  },
};

/** `admin_password` (env M2MHUB_ADMIN_PASSWORD): sets the `admin` user's password at start-up; never shown. */
export const adminPasswordField = optional(
  'password of the REST API user admin; unset on first start: a random one is generated and printed once to stderr; set later and different: it replaces the stored one (recovery)',
  { allowed: 'at least 8 and at most 1024 characters', check: (s) => s.length >= 8 && s.length <= 1024, secret: true },
);

export const storeSection = {
  backend: oneOf(['level', 'memory'] as const, 'level', 'durable store: level (<data_dir>/store) or memory (lost on exit); Redis when cluster.redis.url is set'),
  max_value_size: int(1024 * 1024, 1024, 64 * 1024 * 1024, 'largest stored value in bytes'),
  queue_max_length: int(1000, 1, 1_000_000, 'default maximum length of a durable queue'),
  list_limit: int(1000, 1, 100_000, 'most entries one list call returns'),
};

export const clusterSection = {
  redis: {
    url: optional(
      'Redis URL (redis://[user:pass@]host:port[/db]); when set, hubs sharing it form a cluster: MQTT sessions, retained messages and the store live in Redis and messages are routed between hubs',
      {
        allowed: 'a redis:// or rediss:// URL',
        check: (s) => /^rediss?:\/\/[^\s]+$/.test(s),
        secret: true,
      },
    ),
  },
  node_id: optional('name of this hub among the nodes (default: <hostname>-<random>, kept in <data_dir>/node_id)', {
    allowed: 'letters, digits, ".", "_" or "-", at most 64',
    check: (s) => NODE_ID_RE.test(s),
  }),
};

export const logSection = {
  level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const, 'info', 'log level'),
  format: oneOf(['auto', 'json', 'pretty'] as const, 'auto', 'pretty when stdout is a terminal (auto), else JSON'),
};

export const shutdownSection = {
  timeout: int(4000, 100, 60_000, 'ms to stop listeners and flush the store before exiting anyway'),
};
