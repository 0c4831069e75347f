/**
 * The durable-state interfaces every part of the hub builds on (DESIGN.md §5). They are
 * narrow and async so an embedded backend and a Redis backend can implement them without
 * any change in callers. Values are JSON: what goes in comes back deep-equal.
 */

/** One operation of an atomic batch (`KeyValueStore.batch`). */
export type BatchOp = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string };

export interface ListOptions {
  /** Only keys starting with this string ("" = all). */
  prefix?: string;
  /** Only keys strictly after this one (for paging: pass the last key of the previous page). */
  after?: string;
  /** At most this many entries; defaults to the store's `listLimit`. */
  limit?: number;
}

export interface Entry<T> {
  key: string;
  value: T;
}

/**
 * A namespaced JSON key-value map. Keys are non-empty strings without NUL; `list` returns
 * entries in ascending key order (UTF-8 byte order).
 */
export interface KeyValueStore {
  readonly namespace: string;
  get<T = unknown>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  /** Resolves true when the key existed. */
  delete(key: string): Promise<boolean>;
  list<T = unknown>(options?: ListOptions): Promise<Entry<T>[]>;
  /** Applies every operation or none. */
  batch(ops: BatchOp[]): Promise<void>;
}

export interface PushOptions {
  /** Overrides the queue's max length for this push. */
  maxLength?: number;
}

/**
 * Bounded FIFO queues, one per key (e.g. one per device endpoint), in a namespace.
 * Operations on one key are linearizable; `push` on a full queue rejects with
 * `StoreErrors.queueFull` and leaves the queue unchanged.
 */
export interface DurableQueue<T = unknown> {
  readonly namespace: string;
  readonly maxLength: number;
  /** Appends `item`; resolves the new length. */
  push(key: string, item: T, options?: PushOptions): Promise<number>;
  /** The oldest item, not removed. */
  peek(key: string): Promise<T | undefined>;
  /** Removes and returns the oldest item. */
  shift(key: string): Promise<T | undefined>;
  length(key: string): Promise<number>;
  /** Removes and returns up to `max` oldest items (all by default), oldest first. */
  drain(key: string, max?: number): Promise<T[]>;
  clear(key: string): Promise<void>;
  /** Keys that currently hold at least one item, ascending. */
  keys(options?: { limit?: number }): Promise<string[]>;
}

export interface QueueOptions {
  /** Maximum items per key; defaults to the store's `queueMaxLength`. */
  maxLength?: number;
}

/** The aggregate every backend provides. */
export interface Store {
  /** "level", "memory" or "redis": for logs and the status endpoint. */
  readonly backend: string;
  open(): Promise<void>;
  /** Makes every completed write durable (fsync for file backends). */
  flush(): Promise<void>;
  /** Flushes and releases the backend; later calls reject with `StoreErrors.closed`. */
  close(): Promise<void>;
  kv(namespace: string): KeyValueStore;
  queue<T = unknown>(namespace: string, options?: QueueOptions): DurableQueue<T>;
}

/** Limits every backend enforces (each a config option with a default). */
export interface StoreLimits {
  /** Longest key in UTF-8 bytes. */
  maxKeyBytes: number;
  /** Largest JSON-encoded value in bytes. */
  maxValueBytes: number;
  /** Default and upper bound for `list` limits. */
  listLimit: number;
  /** Default maximum length of a queue. */
  queueMaxLength: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = {
  maxKeyBytes: 1024,
  maxValueBytes: 1024 * 1024,
  listLimit: 1000,
  queueMaxLength: 1000,
};
