/** The small sections: api, store, cluster, log, shutdown. */
import { bool, host, int, oneOf, optional, port } from './schema';

export const apiSection = {
  enabled: bool(true, 'REST API and dashboard listener on'),
  port: port(18083, 'REST API port'),
  bind: host('0.0.0.0', 'REST API bind address'),
  docs: bool(true, 'serve OpenAPI and Swagger UI at /api-docs'),
  body_limit: int(1024 * 1024, 1024, 64 * 1024 * 1024, 'largest request body in bytes'),
};

export const storeSection = {
  backend: oneOf(['level', 'memory'] as const, 'level', 'durable store: level (<data_dir>/store) or memory (lost on exit)'),
  max_value_size: int(1024 * 1024, 1024, 64 * 1024 * 1024, 'largest stored value in bytes'),
  queue_max_length: int(1000, 1, 1_000_000, 'default maximum length of a durable queue'),
  list_limit: int(1000, 1, 100_000, 'most entries one list call returns'),
};

export const clusterSection = {
  redis: {
    url: optional('Redis URL (redis://[user:pass@]host:port[/db]); when set, MQTT sessions and retained messages live in Redis', {
      allowed: 'a redis:// or rediss:// URL',
      check: (s) => /^rediss?:\/\/[^\s]+$/.test(s),
      secret: true,
    }),
  },
};

export const logSection = {
  level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const, 'info', 'log level'),
  format: oneOf(['auto', 'json', 'pretty'] as const, 'auto', 'pretty when stdout is a terminal (auto), else JSON'),
};

export const shutdownSection = {
  timeout: int(4000, 100, 60_000, 'ms to stop listeners and flush the store before exiting anyway'),
};
