/**
 * Cross-node message routing (DESIGN.md §5): Aedes' `mq` on Redis pub/sub (mqemitter-redis),
 * so a publish made on one hub reaches subscribers, and the in-process `subscribe` API, on
 * every hub sharing the Redis. Aedes' own `$SYS/...` traffic (subscription broadcasts of the
 * Redis persistence, "same client id connected elsewhere" takeovers) rides the same channel.
 */
import MQEmitterRedis from 'mqemitter-redis';
import { Redis } from 'ioredis';
import { BrokerErrors } from './errors';
import { redacted, redisOptionsFromUrl } from './redis-url';

export interface OpenedEmitter {
  /** What Aedes takes as `mq`; Aedes closes it in `close()`. */
  instance: unknown;
  /** Closes the Redis connections if Aedes never took the emitter (failed start). */
  close(): Promise<void>;
}

export interface EmitterLimits {
  /** Message ids remembered to drop a message Redis delivers twice (pattern overlap). */
  dedupCacheSize: number;
}

export const DEFAULT_EMITTER_LIMITS: EmitterLimits = { dedupCacheSize: 10_000 };

async function connect(url: string, role: string, onError: (err: Error) => void): Promise<Redis> {
  // Pub/sub must not fail its commands while Redis is briefly away: retry as ioredis does.
  const conn = new Redis({ ...redisOptionsFromUrl(url), lazyConnect: true, enableAutoPipelining: true, connectionName: `m2mhub-mq-${role}` });
  let last = '';
  conn.on('error', (err: Error) => {
    if (err.message !== last) onError(err);
    last = err.message;
  });
  try {
    await conn.connect();
  } catch (err) {
    conn.disconnect();
    throw BrokerErrors.persistence(`cannot connect to ${redacted(url)} for message routing: ${last || (err as Error).message}`, { cause: err });
  }
  return conn;
}

export async function openRedisEmitter(url: string, onError: (err: Error) => void, limits: Partial<EmitterLimits> = {}): Promise<OpenedEmitter> {
  const l = { ...DEFAULT_EMITTER_LIMITS, ...limits };
  const pubConn = await connect(url, 'pub', onError);
  let subConn: Redis;
  try {
    subConn = await connect(url, 'sub', onError);
  } catch (err) {
    pubConn.disconnect();
    throw err;
  }
  const mq = new MQEmitterRedis({ pubConn, subConn, maxLRUCache: l.dedupCacheSize });
  mq.state.on('error', (err: Error) => onError(err));
  return {
    instance: mq,
    close: () => new Promise<void>((resolve) => mq.close(() => resolve())),
  };
}
