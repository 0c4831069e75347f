import { mkdirSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import type { StoreLimits } from './api';
import type { EngineOp, OrderedEngine } from './engine';
import { EngineStore } from './engine-store';
import { StoreErrors } from './errors';

const FLUSH_KEY = Buffer.from('\u0000flush', 'utf8');

/** The embedded engine: a LevelDB database (classic-level) in a directory. */
export class LevelEngine implements OrderedEngine {
  readonly name = 'level';
  private readonly db: ClassicLevel<Buffer, string>;
  constructor(readonly location: string) {
    this.db = new ClassicLevel<Buffer, string>(location, { keyEncoding: 'buffer', valueEncoding: 'utf8' });
  }
  async open(): Promise<void> {
    try {
      mkdirSync(this.location, { recursive: true });
      await this.db.open();
    } catch (err) {
      const cause = (err as { cause?: Error }).cause;
      const why = cause?.message ?? (err as Error).message;
      const hint = /\block\b/i.test(why) ? ' (is another process using this data directory?)' : '';
      throw StoreErrors.openFailed(`${this.location}: ${why}${hint}`, { cause: err });
    }
  }
  async close(): Promise<void> {
    if (this.db.status === 'open') await this.flush();
    await this.db.close();
  }
  /** A synchronous write forces LevelDB to fsync its log, which holds every earlier write too. */
  async flush(): Promise<void> {
    await this.db.put(FLUSH_KEY, String(Date.now()), { sync: true });
  }
  async get(key: string): Promise<string | undefined> {
    return this.db.get(Buffer.from(key, 'utf8'));
  }
  async batch(ops: EngineOp[]): Promise<void> {
    await this.db.batch(
      ops.map((op) =>
        op.type === 'put'
          ? { type: 'put' as const, key: Buffer.from(op.key, 'utf8'), value: op.value }
          : { type: 'del' as const, key: Buffer.from(op.key, 'utf8') },
      ),
    );
  }
  async range(prefix: string, after: string | undefined, limit: number): Promise<Array<[string, string]>> {
    const lo = Buffer.from(prefix, 'utf8');
    // 0xFF never occurs in UTF-8, so prefix+0xFF is above every key starting with prefix.
    const hi = Buffer.concat([lo, Buffer.from([0xff])]);
    const opts =
      after !== undefined && Buffer.compare(Buffer.from(after, 'utf8'), lo) >= 0
        ? { gt: Buffer.from(after, 'utf8'), lt: hi, limit }
        : { gte: lo, lt: hi, limit };
    const out: Array<[string, string]> = [];
    for await (const [k, v] of this.db.iterator(opts)) out.push([k.toString('utf8'), v]);
    return out;
  }
}

/** The default store: classic-level in `location` (`<data_dir>/store`). */
export function createLevelStore(location: string, limits: Partial<StoreLimits> = {}): EngineStore {
  return new EngineStore(new LevelEngine(location), limits);
}
