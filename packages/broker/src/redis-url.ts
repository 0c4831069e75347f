/** `cluster.redis.url` parsing shared by the persistence and the message emitter. */
import { BrokerErrors } from './errors';

/** ioredis options from a `redis://[user:pass@]host:port[/db]` URL. */
export function redisOptionsFromUrl(url: string): Record<string, unknown> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw BrokerErrors.persistence(`cluster.redis.url is not a URL`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw BrokerErrors.persistence('cluster.redis.url must be redis:// or rediss://');
  const opts: Record<string, unknown> = { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379 };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (db) opts.db = Number(db);
  if (u.protocol === 'rediss:') opts.tls = {};
  // Fail a command instead of queueing it forever while Redis is away.
  opts.maxRetriesPerRequest = 3;
  opts.connectTimeout = 5000;
  return opts;
}

/** The URL without its password, for logs and errors (secrets are never logged). */
export function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}
