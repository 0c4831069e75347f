/**
 * A Redis engine for `EngineStore` (ioredis): keys in one sorted set with score 0, so
 * ZRANGEBYLEX gives the UTF-8 byte order and prefix ranges; values in one hash; batches in
 * MULTI/EXEC. Queue read-modify-write is serialized per process only: several hub
 * processes sharing one Redis need the dedicated Redis backend (later issue, Lua scripts).
 */
import { Redis } from 'ioredis';
import type { StoreLimits } from './api';
import type { EngineOp, OrderedEngine } from './engine';
import { EngineStore } from './engine-store';
import { StoreErrors } from './errors';

export interface RedisEngineOptions {
  /** Prefix of the two Redis keys this engine uses. */
  keyPrefix?: string;
  /** ms to wait for the connection at open(). */
  connectTimeoutMs?: number;
}

export class RedisEngine implements OrderedEngine {
  readonly name = 'redis';
  private readonly redis: Redis;
  private readonly zkey: string;
  private readonly hkey: string;
  constructor(
    private readonly url: string,
    opts: RedisEngineOptions = {},
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: opts.connectTimeoutMs ?? 5000 });
    this.redis.on('error', () => {}); // surfaced through the failing command
    const p = opts.keyPrefix ?? 'm2mhub:store:';
    this.zkey = `${p}keys`;
    this.hkey = `${p}values`;
  }
  async open(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (err) {
      throw StoreErrors.openFailed(`redis ${new URL(this.url).host}: ${(err as Error).message}`, { cause: err });
    }
  }
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
  async flush(): Promise<void> {}
  async get(key: string): Promise<string | undefined> {
    return (await this.redis.hget(this.hkey, key)) ?? undefined;
  }
  async batch(ops: EngineOp[]): Promise<void> {
    const m = this.redis.multi();
    for (const op of ops) {
      if (op.type === 'put') {
        m.zadd(this.zkey, 0, op.key);
        m.hset(this.hkey, op.key, op.value);
      } else {
        m.zrem(this.zkey, op.key);
        m.hdel(this.hkey, op.key);
      }
    }
    const res = await m.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
  }
  async range(prefix: string, after: string | undefined, limit: number): Promise<Array<[string, string]>> {
    const lo = Buffer.from(prefix, 'utf8');
    // 0xFF never occurs in UTF-8: prefix+0xFF bounds every key with the prefix.
    const hi = Buffer.concat([Buffer.from('('), lo, Buffer.from([0xff])]);
    const min =
      after !== undefined && Buffer.compare(Buffer.from(after, 'utf8'), lo) >= 0
        ? Buffer.concat([Buffer.from('('), Buffer.from(after, 'utf8')])
        : Buffer.concat([Buffer.from('['), lo]);
    const keys = await this.redis.zrangebylexBuffer(this.zkey, min, hi, 'LIMIT', 0, limit);
    if (keys.length === 0) return [];
    const vals = await this.redis.hmget(this.hkey, ...keys.map((k) => k.toString('utf8')));
    const out: Array<[string, string]> = [];
    keys.forEach((k, i) => {
      const v = vals[i];
      if (v !== null && v !== undefined) out.push([k.toString('utf8'), v]);
    });
    return out;
  }
}

export function createRedisStore(url: string, limits: Partial<StoreLimits> = {}, opts: RedisEngineOptions = {}): EngineStore {
  return new EngineStore(new RedisEngine(url, opts), limits);
}
