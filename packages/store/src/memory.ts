import type { StoreLimits } from './api';
import { compareUtf8, type EngineOp, type OrderedEngine } from './engine';
import { EngineStore } from './engine-store';

/** Volatile engine for tests and for running without a data directory. */
export class MemoryEngine implements OrderedEngine {
  readonly name = 'memory';
  private readonly map = new Map<string, string>();
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async flush(): Promise<void> {}
  async get(key: string): Promise<string | undefined> {
    return this.map.get(key);
  }
  async batch(ops: EngineOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.map.set(op.key, op.value);
      else this.map.delete(op.key);
    }
  }
  async range(prefix: string, after: string | undefined, limit: number): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    for (const [k, v] of this.map) {
      if (k.startsWith(prefix) && (after === undefined || compareUtf8(k, after) > 0)) out.push([k, v]);
    }
    out.sort((a, b) => compareUtf8(a[0], b[0]));
    return out.slice(0, limit);
  }
}

export function createMemoryStore(limits: Partial<StoreLimits> = {}): EngineStore {
  return new EngineStore(new MemoryEngine(), limits);
}
