import {
  type BatchOp,
  DEFAULT_STORE_LIMITS,
  type DurableQueue,
  type Entry,
  type KeyValueStore,
  type ListOptions,
  type PushOptions,
  type QueueOptions,
  type Store,
  type StoreLimits,
} from './api';
import { type AtomicQueueEngine, type EngineOp, isAtomicQueueEngine, type OrderedEngine } from './engine';
import { StoreErrors } from './errors';
import { checkKey, checkMaxLength, checkNamespace, clampLimit, decodeValue, encodeValue, KeyedMutex } from './validate';

// Key layout inside the engine (NUL separates parts; user keys cannot contain NUL):
//   k\0<ns>\0<key>               -> JSON value
//   m\0<ns>\0<key>               -> queue meta {"h":head,"t":tail}
//   q\0<ns>\0<key>\0<seq as hex> -> JSON item
const SEP = '\u0000';
const SEQ_DIGITS = 13; // 2^52 in hex fits; sorts as text

interface QueueMeta {
  h: number;
  t: number;
}

function seqHex(n: number): string {
  return n.toString(16).padStart(SEQ_DIGITS, '0');
}

/** Store implemented on any `OrderedEngine`: namespaces, JSON values, limits, queues. */
export class EngineStore implements Store {
  readonly limits: StoreLimits;
  private state: 'new' | 'open' | 'closed' = 'new';
  private readonly mutex = new KeyedMutex();
  constructor(
    private readonly engine: OrderedEngine,
    limits: Partial<StoreLimits> = {},
  ) {
    this.limits = { ...DEFAULT_STORE_LIMITS, ...limits };
  }
  get backend(): string {
    return this.engine.name;
  }
  async open(): Promise<void> {
    if (this.state === 'open') return;
    if (this.state === 'closed') throw StoreErrors.closed('cannot reopen a closed store; create a new one');
    await this.engine.open();
    this.state = 'open';
  }
  async flush(): Promise<void> {
    this.assertOpen();
    await this.engine.flush();
  }
  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed';
      return;
    }
    this.state = 'closed';
    await this.engine.close();
  }
  kv(namespace: string): KeyValueStore {
    checkNamespace(namespace);
    return new EngineKv(this, namespace);
  }
  queue<T = unknown>(namespace: string, options: QueueOptions = {}): DurableQueue<T> {
    checkNamespace(namespace);
    const maxLength = options.maxLength ?? this.limits.queueMaxLength;
    checkMaxLength(maxLength);
    return new EngineQueue<T>(this, namespace, maxLength);
  }

  /** @internal */
  assertOpen(): void {
    if (this.state !== 'open') throw StoreErrors.closed(this.state === 'new' ? 'call open() first' : 'store was closed');
  }
  /** @internal */
  get db(): OrderedEngine {
    this.assertOpen();
    return this.engine;
  }
  /** @internal The engine when it does queue operations atomically itself (shared Redis). */
  get atomic(): AtomicQueueEngine | undefined {
    const db = this.db;
    return isAtomicQueueEngine(db) ? db : undefined;
  }
  /** @internal */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(key, fn);
  }
}

class EngineKv implements KeyValueStore {
  private readonly base: string;
  constructor(
    private readonly store: EngineStore,
    readonly namespace: string,
  ) {
    this.base = `k${SEP}${namespace}${SEP}`;
  }
  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkKey(key, this.store.limits);
    const raw = await this.store.db.get(this.base + key);
    return raw === undefined ? undefined : decodeValue<T>(raw, `${this.namespace}/${key}`);
  }
  async put(key: string, value: unknown): Promise<void> {
    checkKey(key, this.store.limits);
    const raw = encodeValue(value, this.store.limits);
    await this.store.db.batch([{ type: 'put', key: this.base + key, value: raw }]);
  }
  async delete(key: string): Promise<boolean> {
    checkKey(key, this.store.limits);
    const db = this.store.db;
    const atomic = this.store.atomic;
    if (atomic) return atomic.deleteKey(this.base + key);
    return this.store.exclusive(this.base + key, async () => {
      const existed = (await db.get(this.base + key)) !== undefined;
      if (existed) await db.batch([{ type: 'del', key: this.base + key }]);
      return existed;
    });
  }
  async list<T = unknown>(options: ListOptions = {}): Promise<Entry<T>[]> {
    const limit = clampLimit(options.limit, this.store.limits);
    const prefix = options.prefix ?? '';
    if (prefix.includes(SEP)) throw StoreErrors.invalidKey('prefix must not contain NUL');
    if (limit === 0) return [];
    const after = options.after === undefined ? undefined : this.base + options.after;
    const rows = await this.store.db.range(this.base + prefix, after, limit);
    return rows.map(([k, v]) => ({ key: k.slice(this.base.length), value: decodeValue<T>(v, `${this.namespace}/${k}`) }));
  }
  async batch(ops: BatchOp[]): Promise<void> {
    const out: EngineOp[] = ops.map((op) => {
      checkKey(op.key, this.store.limits);
      return op.type === 'put'
        ? { type: 'put', key: this.base + op.key, value: encodeValue(op.value, this.store.limits) }
        : { type: 'del', key: this.base + op.key };
    });
    if (out.length > 0) await this.store.db.batch(out);
  }
}

class EngineQueue<T> implements DurableQueue<T> {
  private readonly metaBase: string;
  private readonly itemBase: string;
  constructor(
    private readonly store: EngineStore,
    readonly namespace: string,
    readonly maxLength: number,
  ) {
    this.metaBase = `m${SEP}${namespace}${SEP}`;
    this.itemBase = `q${SEP}${namespace}${SEP}`;
  }
  private itemKey(key: string, seq: number): string {
    return `${this.itemPrefix(key)}${seqHex(seq)}`;
  }
  private itemPrefix(key: string): string {
    return `${this.itemBase}${key}${SEP}`;
  }
  /** The engine's own atomic queue operations, after the checks `run` does. */
  private atomicFor(key: string): AtomicQueueEngine | undefined {
    checkKey(key, this.store.limits);
    return this.store.atomic;
  }
  private async meta(key: string): Promise<QueueMeta> {
    const raw = await this.store.db.get(this.metaBase + key);
    if (raw === undefined) return { h: 0, t: 0 };
    const m = decodeValue<QueueMeta>(raw, `${this.namespace} queue ${key}`);
    if (!Number.isSafeInteger(m.h) || !Number.isSafeInteger(m.t) || m.t < m.h) {
      throw StoreErrors.corrupt(`${this.namespace} queue ${key} meta`);
    }
    return m;
  }
  private metaOp(key: string, m: QueueMeta): EngineOp {
    // An empty queue leaves no meta behind, so `keys()` lists only non-empty queues.
    return m.t === m.h
      ? { type: 'del', key: this.metaBase + key }
      : { type: 'put', key: this.metaBase + key, value: JSON.stringify(m) };
  }
  private async run<R>(key: string, fn: () => Promise<R>): Promise<R> {
    checkKey(key, this.store.limits);
    this.store.assertOpen();
    return this.store.exclusive(this.metaBase + key, fn);
  }
  async push(key: string, item: T, options: PushOptions = {}): Promise<number> {
    const max = options.maxLength ?? this.maxLength;
    checkMaxLength(max);
    const raw = encodeValue(item, this.store.limits);
    const atomic = this.atomicFor(key);
    if (atomic) {
      const r = await atomic.queuePush(this.metaBase + key, this.itemPrefix(key), raw, max);
      if (typeof r !== 'number') throw StoreErrors.queueFull(`${this.namespace} queue ${key} holds ${r.full} of ${max}`);
      return r;
    }
    return this.run(key, async () => {
      const m = await this.meta(key);
      const len = m.t - m.h;
      if (len >= max) throw StoreErrors.queueFull(`${this.namespace} queue ${key} holds ${len} of ${max}`);
      const next = { h: m.h, t: m.t + 1 };
      await this.store.db.batch([{ type: 'put', key: this.itemKey(key, m.t), value: raw }, this.metaOp(key, next)]);
      return len + 1;
    });
  }
  async peek(key: string): Promise<T | undefined> {
    const atomic = this.atomicFor(key);
    if (atomic) {
      const raw = await atomic.queuePeek(this.metaBase + key, this.itemPrefix(key));
      return raw === undefined ? undefined : decodeValue<T>(raw, `${this.namespace} queue ${key}`);
    }
    return this.run(key, async () => {
      const m = await this.meta(key);
      if (m.t === m.h) return undefined;
      const raw = await this.store.db.get(this.itemKey(key, m.h));
      if (raw === undefined) throw StoreErrors.corrupt(`${this.namespace} queue ${key} item ${m.h} missing`);
      return decodeValue<T>(raw, `${this.namespace} queue ${key}`);
    });
  }
  async shift(key: string): Promise<T | undefined> {
    const items = await this.drain(key, 1);
    return items[0];
  }
  async length(key: string): Promise<number> {
    const atomic = this.atomicFor(key);
    if (atomic) return atomic.queueLength(this.metaBase + key);
    return this.run(key, async () => {
      const m = await this.meta(key);
      return m.t - m.h;
    });
  }
  async drain(key: string, max?: number): Promise<T[]> {
    if (max !== undefined && (!Number.isInteger(max) || max < 0)) {
      throw StoreErrors.invalidKey(`drain max must be a non-negative integer, got ${max}`);
    }
    const atomic = this.atomicFor(key);
    if (atomic) {
      if (max === 0) return [];
      const raws = await atomic.queueDrain(this.metaBase + key, this.itemPrefix(key), max);
      return raws.map((v) => decodeValue<T>(v, `${this.namespace} queue ${key}`));
    }
    return this.run(key, async () => {
      const m = await this.meta(key);
      const n = Math.min(m.t - m.h, max ?? Number.POSITIVE_INFINITY);
      if (n === 0) return [];
      const rows = await this.store.db.range(`${this.itemBase}${key}${SEP}`, undefined, n);
      if (rows.length !== n) throw StoreErrors.corrupt(`${this.namespace} queue ${key}: ${rows.length} of ${n} items`);
      const items = rows.map(([, v]) => decodeValue<T>(v, `${this.namespace} queue ${key}`));
      const ops: EngineOp[] = rows.map(([k]) => ({ type: 'del', key: k }));
      ops.push(this.metaOp(key, { h: m.h + n, t: m.t }));
      await this.store.db.batch(ops);
      return items;
    });
  }
  async clear(key: string): Promise<void> {
    const atomic = this.atomicFor(key);
    if (atomic) return atomic.queueClear(this.metaBase + key, this.itemPrefix(key));
    return this.run(key, async () => {
      const m = await this.meta(key);
      const n = m.t - m.h;
      if (n === 0) return;
      const rows = await this.store.db.range(`${this.itemBase}${key}${SEP}`, undefined, n);
      const ops: EngineOp[] = rows.map(([k]) => ({ type: 'del', key: k }));
      ops.push({ type: 'del', key: this.metaBase + key });
      await this.store.db.batch(ops);
    });
  }
  async keys(options: { limit?: number } = {}): Promise<string[]> {
    const limit = clampLimit(options.limit, this.store.limits);
    if (limit === 0) return [];
    const rows = await this.store.db.range(this.metaBase, undefined, limit);
    return rows.map(([k]) => k.slice(this.metaBase.length));
  }
}
