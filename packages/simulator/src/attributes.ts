import type { Lwm2mPath } from '@m2mhub/lwm2m';

/** LwM2M Core §5.1.2 notification attributes as stored on the device. */
export interface SimAttributes {
  pmin?: number;
  pmax?: number;
  gt?: number;
  lt?: number;
  st?: number;
  epmin?: number;
  epmax?: number;
  edge?: number;
  con?: number;
  hqmax?: number;
}
const NAMES = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax', 'edge', 'con', 'hqmax'] as const;

/** Attributes per path; LwM2M Core §5.1.2: resource-level attributes override instance and object ones. */
export class AttributeStore {
  private readonly byPath = new Map<string, SimAttributes>();

  /** Applies a Write-Attributes query (`pmin=5`, bare `pmin` clears). Throws on an unknown name or bad value. */
  apply(path: Lwm2mPath, query: readonly string[]): void {
    const key = path.toString();
    const cur: SimAttributes = { ...this.byPath.get(key) };
    for (const q of query) {
      const eq = q.indexOf('=');
      const name = (eq < 0 ? q : q.slice(0, eq)) as (typeof NAMES)[number];
      if (!NAMES.includes(name)) throw new Error(`unknown attribute ${name}`);
      if (eq < 0) {
        delete cur[name];
        continue;
      }
      const v = Number(q.slice(eq + 1));
      if (!Number.isFinite(v)) throw new Error(`bad value for ${name}`);
      cur[name] = v;
    }
    if (cur.pmin !== undefined && cur.pmax !== undefined && cur.pmax > 0 && cur.pmax < cur.pmin) throw new Error('pmax < pmin');
    if (Object.keys(cur).length === 0) this.byPath.delete(key);
    else this.byPath.set(key, cur);
  }

  /** Effective attributes of a path (object < instance < resource < resource instance). */
  effective(path: Lwm2mPath): SimAttributes {
    const ids = path.ids;
    let out: SimAttributes = {};
    for (let n = 1; n <= ids.length; n++) {
      const a = this.byPath.get(`/${ids.slice(0, n).join('/')}`);
      if (a) out = { ...out, ...a };
    }
    return out;
  }

  /** `;pmin=5;pmax=60` for Discover (LwM2M Core §5.4.2). */
  linkParams(path: Lwm2mPath): string {
    const a = this.byPath.get(path.toString());
    if (!a) return '';
    return NAMES.filter((n) => a[n] !== undefined)
      .map((n) => `;${n}=${a[n]}`)
      .join('');
  }
}
