/**
 * Chooses Aedes' persistence (DESIGN.md §5): in memory, LevelDB in `<data_dir>/mqtt`
 * (classic-level, the default), or Redis when `cluster.redis.url` is set.
 */
import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import { ClassicLevel } from 'classic-level';
import { BrokerErrors } from './errors';

export type PersistenceConfig = { kind: 'memory' } | { kind: 'level'; path: string } | { kind: 'redis'; url: string };

export interface OpenedPersistence {
  /** What Aedes takes as `persistence` (undefined: its built-in memory persistence). */
  instance: { setup(broker: unknown): Promise<void>; destroy(): Promise<void> } | undefined;
  describe: string;
  close(): Promise<void>;
}

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
  // Fail start-up instead of retrying forever when Redis is not there.
  opts.maxRetriesPerRequest = 3;
  opts.connectTimeout = 5000;
  return opts;
}

function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}

const STREAM_METHODS = ['createRetainedStreamCombi', 'createRetainedStream', 'outgoingStream', 'streamWill'] as const;

/**
 * aedes-persistence-redis 12 returns async generators where Aedes 1.2 pipes streams
 * (regression found by test/redis.test.ts: "stream.pipe is not a function" on SUBSCRIBE).
 * Wraps those methods so they always return a Readable.
 */
export function withStreamResults<T extends object>(instance: T): T {
  const target = instance as Record<string, unknown>;
  for (const m of STREAM_METHODS) {
    const orig = target[m];
    if (typeof orig !== 'function') continue;
    target[m] = (...args: unknown[]) => {
      const r = (orig as (...a: unknown[]) => unknown).apply(instance, args);
      if (r && typeof (r as { pipe?: unknown }).pipe === 'function') return r;
      return Readable.from(r as AsyncIterable<unknown> | Iterable<unknown>, { objectMode: true });
    };
  }
  return instance;
}

export async function openPersistence(cfg: PersistenceConfig): Promise<OpenedPersistence> {
  if (cfg.kind === 'memory') return { instance: undefined, describe: 'memory', close: async () => {} };
  if (cfg.kind === 'level') {
    const db = new ClassicLevel(cfg.path);
    try {
      mkdirSync(cfg.path, { recursive: true });
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: Error }).cause;
      throw BrokerErrors.persistence(`cannot open ${cfg.path}: ${cause?.message ?? (err as Error).message}`, { cause: err });
    }
    const instance = new AsyncLevelPersistence(db);
    return {
      instance,
      describe: `level ${cfg.path}`,
      close: async () => {
        if (db.status === 'open') await db.close();
      },
    };
  }
  const instance = withStreamResults(new AsyncRedisPersistence(redisOptionsFromUrl(cfg.url)));
  let closed = false;
  return {
    instance,
    describe: `redis ${redacted(cfg.url)}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await instance.destroy();
    },
  };
}
