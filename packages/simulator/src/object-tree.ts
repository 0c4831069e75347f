import { Lwm2mPath, type Lwm2mValue, type ResourceValue } from '@m2mhub/lwm2m';

/** A resource: one value, or resource instances by id (multiple-instance resource). */
export type SimResource = Lwm2mValue | Map<number, Lwm2mValue>;
export type SimInstance = Map<number, SimResource>;

export interface SimObject {
  version?: string;
  instances: Map<number, SimInstance>;
}

/** Marks an executable resource in a TreeSpec (it has no value and is not part of reads). */
export const EXEC: unique symbol = Symbol('exec');

/** A plain description of an object tree: `{ 3: { 0: { 0: 'Acme', 4: EXEC, 7: [3800, 5000] } } }`. */
export type TreeSpec = Record<number, Record<number, Record<number, Lwm2mValue | Lwm2mValue[] | typeof EXEC>>>;

/**
 * The device's object/instance/resource tree (LwM2M Core §6.1). Small on purpose: one Map
 * per level, values stored as given.
 */
export class ObjectTree {
  readonly objects = new Map<number, SimObject>();
  /** Executable resources, "/3/0/4". */
  readonly executables = new Set<string>();

  static from(spec: TreeSpec, versions: Record<number, string> = {}): ObjectTree {
    const t = new ObjectTree();
    for (const [o, insts] of Object.entries(spec)) {
      const obj: SimObject = { instances: new Map() };
      const v = versions[Number(o)];
      if (v !== undefined) obj.version = v;
      for (const [i, res] of Object.entries(insts)) {
        const inst: SimInstance = new Map();
        for (const [r, val] of Object.entries(res)) {
          if (val === EXEC) {
            t.executables.add(`/${o}/${i}/${r}`);
            continue;
          }
          inst.set(Number(r), Array.isArray(val) ? new Map(val.map((x, k) => [k, x])) : val);
        }
        obj.instances.set(Number(i), inst);
      }
      t.objects.set(Number(o), obj);
    }
    for (const [o, v] of Object.entries(versions)) {
      if (!t.objects.has(Number(o))) t.objects.set(Number(o), { version: v, instances: new Map() });
    }
    return t;
  }

  /** The registration payload (LwM2M Core §6.2.1.1): `</1>;ver=1.1,</1/0>,...`. */
  registrationLinks(): string[] {
    const out: string[] = [];
    for (const [id, o] of [...this.objects].sort((a, b) => a[0] - b[0])) {
      if (o.version !== undefined) out.push(`</${id}>;ver=${o.version}`);
      else if (o.instances.size === 0) out.push(`</${id}>`);
      for (const i of [...o.instances.keys()].sort((a, b) => a - b)) out.push(`</${id}/${i}>`);
    }
    return out;
  }

  exists(p: Lwm2mPath): boolean {
    if (p.objectId === undefined) return true;
    const o = this.objects.get(p.objectId);
    if (!o) return false;
    if (p.instanceId === undefined) return true;
    const inst = o.instances.get(p.instanceId);
    if (!inst) return false;
    if (p.resourceId === undefined) return true;
    const r = inst.get(p.resourceId);
    if (r === undefined) return p.resourceInstanceId === undefined && this.executables.has(`/${p.objectId}/${p.instanceId}/${p.resourceId}`);
    if (p.resourceInstanceId === undefined) return true;
    return r instanceof Map && r.has(p.resourceInstanceId);
  }

  /** Every leaf under `p`, in path order. */
  read(p: Lwm2mPath): ResourceValue[] {
    const out: ResourceValue[] = [];
    const objs = p.objectId === undefined ? [...this.objects.keys()] : [p.objectId];
    for (const oid of objs.sort((a, b) => a - b)) {
      const o = this.objects.get(oid);
      if (!o) continue;
      const insts = p.instanceId === undefined ? [...o.instances.keys()] : [p.instanceId];
      for (const iid of insts.sort((a, b) => a - b)) {
        const inst = o.instances.get(iid);
        if (!inst) continue;
        const ress = p.resourceId === undefined ? [...inst.keys()] : [p.resourceId];
        for (const rid of ress.sort((a, b) => a - b)) {
          const r = inst.get(rid);
          if (r === undefined) continue;
          if (r instanceof Map) {
            const ris = p.resourceInstanceId === undefined ? [...r.keys()] : [p.resourceInstanceId];
            for (const ri of ris.sort((a, b) => a - b)) {
              const v = r.get(ri);
              if (v !== undefined) out.push({ path: `/${oid}/${iid}/${rid}/${ri}`, value: v });
            }
          } else out.push({ path: `/${oid}/${iid}/${rid}`, value: r });
        }
      }
    }
    return out;
  }

  /** True when the resource at `p` is a multiple-instance resource. */
  isMulti(p: Lwm2mPath): boolean {
    if (p.objectId === undefined || p.instanceId === undefined || p.resourceId === undefined) return false;
    return this.objects.get(p.objectId)?.instances.get(p.instanceId)?.get(p.resourceId) instanceof Map;
  }

  /** Writes leaves; `replace` on an instance drops resources not written (LwM2M Core §6.3.3). */
  write(values: ResourceValue[], replaceUnder?: Lwm2mPath): void {
    if (replaceUnder && replaceUnder.level === 'instance') {
      const inst = this.instance(replaceUnder.objectId!, replaceUnder.instanceId!, true)!;
      inst.clear();
    } else if (replaceUnder && replaceUnder.level === 'resource') {
      const inst = this.instance(replaceUnder.objectId!, replaceUnder.instanceId!, true)!;
      if (inst.get(replaceUnder.resourceId!) instanceof Map) inst.set(replaceUnder.resourceId!, new Map());
    }
    for (const v of values) {
      const p = Lwm2mPath.parse(v.path);
      const inst = this.instance(p.objectId!, p.instanceId!, true)!;
      if (p.resourceInstanceId !== undefined) {
        let r = inst.get(p.resourceId!);
        if (!(r instanceof Map)) inst.set(p.resourceId!, (r = new Map()));
        r.set(p.resourceInstanceId, v.value);
      } else inst.set(p.resourceId!, v.value);
    }
  }

  instance(o: number, i: number, create = false): SimInstance | undefined {
    let obj = this.objects.get(o);
    if (!obj) {
      if (!create) return undefined;
      this.objects.set(o, (obj = { instances: new Map() }));
    }
    let inst = obj.instances.get(i);
    if (!inst && create) obj.instances.set(i, (inst = new Map()));
    return inst;
  }

  deleteInstance(o: number, i: number): boolean {
    return this.objects.get(o)?.instances.delete(i) ?? false;
  }

  /** Lowest free instance id of an object. */
  freeInstanceId(o: number): number {
    const used = this.objects.get(o)?.instances ?? new Map();
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }
}
