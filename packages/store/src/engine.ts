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
