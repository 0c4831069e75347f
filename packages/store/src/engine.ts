/**
 * The ordered key-value engine the generic store is built on: string keys compared as
 * UTF-8 bytes, string values, atomic batches. The embedded (classic-level) and in-memory
 * backends implement only this; namespaces, JSON, limits and queues live in `engine-store.ts`.
 */
export type EngineOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

export interface OrderedEngine {
  readonly name: string;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Makes completed writes durable. */
  flush(): Promise<void>;
  get(key: string): Promise<string | undefined>;
  batch(ops: EngineOp[]): Promise<void>;
  /** Entries whose key starts with `prefix` and (if given) is strictly greater than `after`, ascending. */
  range(prefix: string, after: string | undefined, limit: number): Promise<Array<[string, string]>>;
}

export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Optional engine capability: queue and delete operations done atomically by the engine
 * itself (Redis Lua scripts), for backends several processes share. Without it `EngineStore`
 * serializes read-modify-write per key in this process only.
 *
 * Layout (shared with `EngineStore`): `metaKey` holds `{"h":head,"t":tail}` (absent when the
 * queue is empty); item `seq` is at `itemPrefix + seq` as 13 lower-case hex digits.
 */
export interface AtomicQueueEngine {
  /** Appends; resolves the new length, or `{ full: length }` when the queue already holds `max`. */
  queuePush(metaKey: string, itemPrefix: string, value: string, max: number): Promise<number | { full: number }>;
  /** Removes and returns up to `max` oldest items (all when undefined). */
  queueDrain(metaKey: string, itemPrefix: string, max: number | undefined): Promise<string[]>;
  queuePeek(metaKey: string, itemPrefix: string): Promise<string | undefined>;
  queueLength(metaKey: string): Promise<number>;
  queueClear(metaKey: string, itemPrefix: string): Promise<void>;
  /** Deletes one key; resolves whether it existed. */
  deleteKey(key: string): Promise<boolean>;
}

export function isAtomicQueueEngine(e: OrderedEngine): e is OrderedEngine & AtomicQueueEngine {
  return typeof (e as Partial<AtomicQueueEngine>).queuePush === 'function';
}
