/**
 * A Redis engine for `EngineStore` (ioredis): keys in one sorted set with score 0, so
 * ZRANGEBYLEX gives the UTF-8 byte order and prefix ranges; values in one hash; batches in
 * MULTI/EXEC; queue operations and deletes are Lua scripts (redis-scripts.ts), so several
 * hub processes can share one Redis: a push never overshoots the bound and a drained item
 * goes to exactly one caller.
 */
import { Redis } from 'ioredis';
import type { StoreLimits } from './api';
import type { AtomicQueueEngine, EngineOp, OrderedEngine } from './engine';
import { EngineStore } from './engine-store';
import { StoreErrors } from './errors';
import { CLEAR, DELETE, DRAIN, LENGTH, PEEK, PUSH } from './redis-scripts';

type Script = (zkey: string, hkey: string, ...args: string[]) => Promise<unknown>;
interface ScriptedRedis {
  m2mQueuePush: Script;
  m2mQueueDrain: Script;
  m2mQueuePeek: Script;
  m2mQueueLength: Script;
  m2mQueueClear: Script;
  m2mDelete: Script;
}

export interface RedisEngineOptions {
  /** Prefix of the two Redis keys this engine uses. */
  keyPrefix?: string;
  /** ms to wait for the connection at open(). */
  connectTimeoutMs?: number;
}

export class RedisEngine implements OrderedEngine, AtomicQueueEngine {
  readonly name = 'redis';
  private readonly redis: Redis;
  private readonly zkey: string;
  private readonly hkey: string;
  private lastError = '';
  constructor(
    private readonly url: string,
    opts: RedisEngineOptions = {},
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: opts.connectTimeoutMs ?? 5000 });
    // Surfaced through the failing command; the last one also explains a failed open().
    this.redis.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    // EVALSHA with a fallback to EVAL (ioredis), so scripts survive a Redis restart.
    for (const [name, lua] of [
      ['m2mQueuePush', PUSH],
      ['m2mQueueDrain', DRAIN],
      ['m2mQueuePeek', PEEK],
      ['m2mQueueLength', LENGTH],
      ['m2mQueueClear', CLEAR],
      ['m2mDelete', DELETE],
    ] as const) {
      this.redis.defineCommand(name, { numberOfKeys: 2, lua });
    }
    const p = opts.keyPrefix ?? 'm2mhub:store:';
    this.zkey = `${p}keys`;
    this.hkey = `${p}values`;
  }
  async open(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (err) {
      this.redis.disconnect();
      throw StoreErrors.openFailed(`redis ${new URL(this.url).host}: ${this.lastError || (err as Error).message}`, { cause: err });
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
  private get scripts(): ScriptedRedis {
    return this.redis as unknown as ScriptedRedis;
  }
  private async script<R>(fn: () => Promise<unknown>): Promise<R> {
    try {
      return (await fn()) as R;
    } catch (err) {
      const msg = (err as Error).message;
      if (msg.includes('M2M_STORE_CORRUPT')) throw StoreErrors.corrupt(msg.slice(msg.indexOf('M2M_STORE_CORRUPT') + 18), { cause: err });
      throw err;
    }
  }
  async queuePush(metaKey: string, itemPrefix: string, value: string, max: number): Promise<number | { full: number }> {
    const [ok, len] = await this.script<[number, number]>(() => this.scripts.m2mQueuePush(this.zkey, this.hkey, metaKey, itemPrefix, value, String(max)));
    return ok === 1 ? len : { full: len };
  }
  async queueDrain(metaKey: string, itemPrefix: string, max: number | undefined): Promise<string[]> {
    return this.script<string[]>(() => this.scripts.m2mQueueDrain(this.zkey, this.hkey, metaKey, itemPrefix, max === undefined ? '' : String(max)));
  }
  async queuePeek(metaKey: string, itemPrefix: string): Promise<string | undefined> {
    const v = await this.script<string | null>(() => this.scripts.m2mQueuePeek(this.zkey, this.hkey, metaKey, itemPrefix));
    return v ?? undefined;
  }
  async queueLength(metaKey: string): Promise<number> {
    return this.script<number>(() => this.scripts.m2mQueueLength(this.zkey, this.hkey, metaKey));
  }
  async queueClear(metaKey: string, itemPrefix: string): Promise<void> {
    await this.script(() => this.scripts.m2mQueueClear(this.zkey, this.hkey, metaKey, itemPrefix));
  }
  async deleteKey(key: string): Promise<boolean> {
    return (await this.script<number>(() => this.scripts.m2mDelete(this.zkey, this.hkey, key))) === 1;
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
