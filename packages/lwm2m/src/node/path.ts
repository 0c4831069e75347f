import { Lwm2mErrors } from './errors';

export type PathLevel = 'root' | 'object' | 'instance' | 'resource' | 'resourceInstance';

/** LwM2M Core §7.1: every id in a path is a 16-bit unsigned integer; 65535 is reserved (MAX_ID). */
export const MAX_PATH_ID = 65534;

function checkId(id: number, ids: readonly number[]): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_PATH_ID) throw Lwm2mErrors.badPath(`id out of range in "/${ids.join('/')}"`);
  return id;
}

/**
 * An LwM2M path (LwM2M Core §7.1 / §6.1): `/`, `/O`, `/O/I`, `/O/I/R` or `/O/I/R/RI`.
 * Immutable; build with `Lwm2mPath.parse("/3/0/1")` or `Lwm2mPath.of(3, 0, 1)`.
 */
export class Lwm2mPath {
  readonly objectId?: number;
  readonly instanceId?: number;
  readonly resourceId?: number;
  readonly resourceInstanceId?: number;

  constructor(ids: readonly number[] = []) {
    if (ids.length > 4) throw Lwm2mErrors.badPath(`too many segments (${ids.length})`);
    if (ids[0] !== undefined) this.objectId = checkId(ids[0], ids);
    if (ids[1] !== undefined) this.instanceId = checkId(ids[1], ids);
    if (ids[2] !== undefined) this.resourceId = checkId(ids[2], ids);
    if (ids[3] !== undefined) this.resourceInstanceId = checkId(ids[3], ids);
  }

  static readonly ROOT = new Lwm2mPath();

  static of(...ids: number[]): Lwm2mPath {
    return new Lwm2mPath(ids);
  }

  /** Parses "/", "/3", "/3/0", "/3/0/1", "/3/0/7/1". Throws M2M_LWM2M_BAD_PATH. */
  static parse(s: string): Lwm2mPath {
    if (typeof s !== 'string' || s.length > 64) throw Lwm2mErrors.badPath('not a path string of at most 64 chars');
    if (s === '/' || s === '') return Lwm2mPath.ROOT;
    if (s[0] !== '/') throw Lwm2mErrors.badPath(`"${s}" does not start with "/"`);
    // Hand-written scan (hot path of every codec): "/" then 1-4 decimal ids, no leading zeros.
    const bad = () => Lwm2mErrors.badPath(`"${s}" is not /O, /O/I, /O/I/R or /O/I/R/RI with decimal ids`);
    const ids: number[] = [];
    let cur = 0;
    let digits = 0;
    for (let i = 1; i <= s.length; i++) {
      const c = i === s.length ? 47 : s.charCodeAt(i);
      if (c === 47) {
        if (digits === 0 || ids.length === 4) throw bad();
        ids.push(cur);
        cur = 0;
        digits = 0;
      } else if (c >= 48 && c <= 57) {
        if (digits > 0 && cur === 0) throw bad();
        if (++digits > 5) throw bad();
        cur = cur * 10 + (c - 48);
      } else throw bad();
    }
    return new Lwm2mPath(ids);
  }

  /** Ids from the object down, e.g. [3, 0, 1]. */
  get ids(): number[] {
    const out: number[] = [];
    if (this.objectId !== undefined) out.push(this.objectId);
    if (this.instanceId !== undefined) out.push(this.instanceId);
    if (this.resourceId !== undefined) out.push(this.resourceId);
    if (this.resourceInstanceId !== undefined) out.push(this.resourceInstanceId);
    return out;
  }

  get level(): PathLevel {
    if (this.objectId === undefined) return 'root';
    if (this.instanceId === undefined) return 'object';
    if (this.resourceId === undefined) return 'instance';
    if (this.resourceInstanceId === undefined) return 'resource';
    return 'resourceInstance';
  }

  toString(): string {
    return `/${this.ids.join('/')}`;
  }

  equals(other: Lwm2mPath): boolean {
    return this.toString() === other.toString();
  }

  /** True when `other` is this path or one of its ancestors (the root is everyone's ancestor). */
  startsWith(other: Lwm2mPath): boolean {
    const a = this.ids;
    const b = other.ids;
    if (b.length > a.length) return false;
    for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  child(id: number): Lwm2mPath {
    return new Lwm2mPath([...this.ids, id]);
  }

  parent(): Lwm2mPath {
    const ids = this.ids;
    ids.pop();
    return new Lwm2mPath(ids);
  }
}
