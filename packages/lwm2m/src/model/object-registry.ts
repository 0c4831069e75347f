import type { ModelProvider, ObjectModel, ResourceModel } from './types';

/** Compares "1.2" style versions numerically (major, then minor). */
export function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

/**
 * A version-aware table of object definitions (LwM2M Core §7.2.2: a client names the
 * object version it implements with `ver=`). `getObject(id)` returns the latest version;
 * `getObject(id, "1.1")` that exact version, else the newest one older than it, else the latest.
 * Objects added later replace an existing definition of the same id and version.
 */
export class ObjectRegistry implements ModelProvider {
  private readonly byId = new Map<number, ObjectModel[]>();

  constructor(objects: Iterable<ObjectModel> = []) {
    for (const o of objects) this.add(o);
  }

  add(obj: ObjectModel): void {
    const list = (this.byId.get(obj.id) ?? []).filter((o) => o.version !== obj.version);
    list.push(obj);
    list.sort((a, b) => compareVersions(a.version, b.version));
    this.byId.set(obj.id, list);
  }

  addAll(objects: Iterable<ObjectModel>): void {
    for (const o of objects) this.add(o);
  }

  /** Removes one version, or every version of the object when `version` is omitted. */
  remove(id: number, version?: string): boolean {
    const list = this.byId.get(id);
    if (!list) return false;
    if (version === undefined) return this.byId.delete(id);
    const next = list.filter((o) => o.version !== version);
    if (next.length === list.length) return false;
    if (next.length === 0) this.byId.delete(id);
    else this.byId.set(id, next);
    return true;
  }

  getObject(id: number, version?: string): ObjectModel | undefined {
    const list = this.byId.get(id);
    if (!list || list.length === 0) return undefined;
    const latest = list[list.length - 1];
    if (version === undefined) return latest;
    let best: ObjectModel | undefined;
    for (const o of list) if (compareVersions(o.version, version) <= 0) best = o;
    return best ?? latest;
  }

  getResource(objectId: number, resourceId: number, version?: string): ResourceModel | undefined {
    return this.getObject(objectId, version)?.resources.get(resourceId);
  }

  /** Every version held for an id, oldest first. */
  versions(id: number): string[] {
    return (this.byId.get(id) ?? []).map((o) => o.version);
  }

  /** Latest version of every object, by id. */
  objects(): ObjectModel[] {
    return [...this.byId.keys()].sort((a, b) => a - b).map((id) => this.getObject(id) as ObjectModel);
  }

  get size(): number {
    return this.byId.size;
  }
}
