/**
 * Chooses Aedes' persistence (DESIGN.md §5): in memory, LevelDB in `<data_dir>/mqtt`
 * (classic-level, the default), or Redis when `cluster.redis.url` is set.
 */
import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import { ClassicLevel } from 'classic-level';
import { Redis } from 'ioredis';
import { BrokerErrors } from './errors';
import { redacted, redisOptionsFromUrl } from './redis-url';

export type PersistenceConfig = { kind: 'memory' } | { kind: 'level'; path: string } | { kind: 'redis'; url: string };

export interface OpenedPersistence {
  /** What Aedes takes as `persistence` (undefined: its built-in memory persistence). */
  instance: { setup(broker: unknown): Promise<void>; destroy(): Promise<void> } | undefined;
  describe: string;
  close(): Promise<void>;
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

type Fn = (...a: unknown[]) => unknown;
type Sub = { clientId: string };
type AedesClientRef = { id: string; clean?: boolean };

/**
 * Bounds the messages a persistent session holds (queued while offline plus awaiting PUBACK)
 * to `max`, as Mosquitto's max_queued_messages: a message for a full session is dropped for
 * that session only and reported through `onDrop`. Counts are loaded lazily per client from
 * the backend's own outgoing stream, so they are right after a restart too.
 *
 * Returns a view for Aedes to use instead of `instance`: the backend's own methods keep
 * calling each other unwrapped (regression: overriding them on the instance made the level
 * backend's outgoingEnqueueCombi re-enter the bound through outgoingEnqueue and drop
 * everything).
 */
export function withQueueBound<T extends object>(instance: T, max: number, onDrop: (clientId: string) => void): T {
  const target = instance as Record<string | symbol, unknown>;
  const call = (name: string, ...args: unknown[]) => (target[name] as Fn).apply(instance, args);
  const counts = new Map<string, number>();
  // Message ids a connected clean-session client had stored through outgoingUpdate.
  const cleanUpdated = new WeakMap<object, Set<number>>();
  const loading = new Map<string, Promise<void>>();
  const ensure = (clientId: string): Promise<void> => {
    if (counts.has(clientId)) return Promise.resolve();
    let p = loading.get(clientId);
    if (!p) {
      p = (async () => {
        let n = 0;
        const r = call('outgoingStream', { id: clientId }) as AsyncIterable<unknown>;
        for await (const _ of r) n++;
        counts.set(clientId, n);
      })().finally(() => loading.delete(clientId));
      loading.set(clientId, p);
    }
    return p;
  };
  const enqueueCombi = async (subs: Sub[] | undefined, packet: unknown) => {
    if (!subs || subs.length === 0) return call('outgoingEnqueueCombi', subs, packet);
    await Promise.all(subs.map((s) => ensure(s.clientId)));
    // Decide and reserve synchronously, so concurrent publishes cannot overshoot.
    const allowed = subs.filter((s) => {
      const n = counts.get(s.clientId) ?? 0;
      if (n >= max) {
        onDrop(s.clientId);
        return false;
      }
      counts.set(s.clientId, n + 1);
      return true;
    });
    if (allowed.length > 0) await call('outgoingEnqueueCombi', allowed, packet);
  };
  const overrides: Record<string, Fn> = {
    outgoingEnqueueCombi: enqueueCombi as Fn,
    outgoingEnqueue: ((sub: Sub, packet: unknown) => enqueueCombi([sub], packet)) as Fn,
    outgoingUpdate: ((client: AedesClientRef, packet: { messageId?: number }) => {
      if (client.clean === true && packet.messageId !== undefined) {
        let ids = cleanUpdated.get(client);
        if (!ids) cleanUpdated.set(client, (ids = new Set()));
        ids.add(packet.messageId);
      }
      return call('outgoingUpdate', client, packet);
    }) as Fn,
    outgoingClearMessageId: (async (client: AedesClientRef, packet: { messageId?: number }) => {
      // Aedes calls this on every PUBACK. A clean session stores an outgoing message only when
      // it inherits a queue at CONNECT (Aedes' emptyQueue: update, then clear); otherwise the
      // lookup always misses, and with LevelDB it was a disk read per PUBACK, 13% of the
      // broker's time at QoS 1 in the bench profile. So it is skipped unless updated here.
      if (client.clean === true) {
        const ids = cleanUpdated.get(client);
        if (packet.messageId === undefined || !ids?.delete(packet.messageId)) return undefined;
      }
      const removed = await call('outgoingClearMessageId', client, packet);
      const n = counts.get(client.id);
      if (removed && n !== undefined) counts.set(client.id, Math.max(0, n - 1));
      return removed;
    }) as Fn,
    cleanSubscriptions: (async (client: { id: string }) => {
      counts.delete(client.id);
      return call('cleanSubscriptions', client);
    }) as Fn,
  };
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'string' && Object.hasOwn(overrides, prop)) return overrides[prop];
      const v = t[prop];
      // Bound, so backends with private (#) fields work through the view.
      return typeof v === 'function' ? (v as Fn).bind(instance) : v;
    },
  }) as T;
}

export async function openPersistence(cfg: PersistenceConfig, onRedisError?: (err: Error) => void): Promise<OpenedPersistence> {
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
  // Our own connection: connect first for a clear start-up error, and keep ioredis' retry
  // errors in our log instead of its "Unhandled error event" on stderr.
  const conn = new Redis({ ...redisOptionsFromUrl(cfg.url), lazyConnect: true });
  let lastError = '';
  conn.on('error', (err: Error) => {
    if (err.message !== lastError) onRedisError?.(err);
    lastError = err.message;
  });
  try {
    await conn.connect();
  } catch (err) {
    conn.disconnect();
    throw BrokerErrors.persistence(`cannot connect to ${redacted(cfg.url)}: ${lastError || (err as Error).message}`, { cause: err });
  }
  const instance = withStreamResults(new AsyncRedisPersistence({ conn }));
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
