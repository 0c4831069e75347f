/**
 * The gateway's object model catalogue (issue #5): the built-in OMA objects, the user's
 * `lwm2m.xml_dir` folder (read at start and on reload) and objects uploaded through the API
 * (kept in the store, so they survive a restart). All three feed the one live ObjectRegistry
 * the LwM2M server and the gateway decode with; for one id and version an uploaded object
 * wins over an xml_dir one, which wins over a built-in. Removing a user object brings the
 * built-in definition back, if there is one.
 */
import { readdirSync } from 'node:fs';
import type { Logger } from '@m2mhub/core';
import { builtinObjects, loadObjectsFromDir, type ObjectModel, ObjectRegistry, parseObjectXml } from '@m2mhub/lwm2m';
import type { KeyValueStore } from '@m2mhub/store';
import { GwErrors } from './errors';

export type ObjectSource = 'builtin' | 'user';

export interface ObjectSummary {
  id: number;
  name: string;
  /** Latest version held; `versions` lists them all, oldest first. */
  version: string;
  versions: string[];
  source: ObjectSource;
  /** For user objects: "api" (uploaded, kept in the store) or "xml_dir". */
  origin?: 'api' | 'xml_dir';
}

export interface ObjectCatalogLimits {
  /** Largest uploaded XML document, bytes. */
  maxXmlBytes: number;
  /** Most objects uploaded through the API (each id and version counts once). */
  maxUserObjects: number;
}

interface StoredObject {
  /** The uploaded document (it may define several objects; this entry is the one with its id/version). */
  xml: string;
}

const key = (id: number, version: string): string => `obj/${id}/${version}`;

/** An object model as JSON (resources as an array, ordered by id). */
export function objectToJson(o: ObjectModel, source: ObjectSource): Record<string, unknown> {
  const { resources, ...rest } = o;
  return { ...rest, source, resources: [...resources.values()].sort((a, b) => a.id - b.id) };
}

export class ObjectCatalog {
  private readonly builtin = new ObjectRegistry(builtinObjects());
  /** id -> version -> model, from xml_dir. */
  private readonly dir = new Map<number, Map<string, ObjectModel>>();
  /** id -> version -> model, uploaded. */
  private readonly api = new Map<number, Map<string, ObjectModel>>();

  constructor(
    /** The live registry the server and the gateway read (mutated in place). */
    readonly registry: ObjectRegistry,
    private readonly kv: KeyValueStore,
    private readonly xmlDir: string,
    private readonly limits: ObjectCatalogLimits,
    private readonly logger: Logger,
  ) {}

  /** Start-up check: a configured xml_dir that cannot be listed is a config error (one line naming the key). */
  static checkDir(dir: string): void {
    if (!dir) return;
    try {
      readdirSync(dir);
    } catch (e) {
      throw GwErrors.badConfig(`lwm2m.xml_dir=${JSON.stringify(dir)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  /** The uploaded objects kept in the store (at start, after `reloadDir`). Broken entries are logged and skipped. */
  async loadStored(): Promise<void> {
    const entries: { key: string; value: StoredObject }[] = [];
    for (let after: string | undefined; entries.length < this.limits.maxUserObjects; ) {
      const page = await this.kv.list<StoredObject>({ prefix: 'obj/', limit: 100, ...(after ? { after } : {}) });
      entries.push(...page);
      if (page.length < 100) break;
      after = page[page.length - 1]!.key;
    }
    for (const e of entries) {
      const [, idText, version] = e.key.split('/');
      try {
        const model = parseObjectXml(e.value.xml, `stored object ${idText}/${version}`, { maxXmlBytes: this.limits.maxXmlBytes }).find(
          (o) => String(o.id) === idText && o.version === version,
        );
        if (model) this.put(this.api, model);
      } catch (err) {
        this.logger.warn({ key: e.key, err: (err as Error).message }, 'stored object XML skipped');
      }
    }
    for (const id of this.api.keys()) this.rebuild(id);
  }

  /** Re-reads xml_dir (objects of files gone or changed are dropped first); broken files come back in `errors`. */
  reloadDir(): { loaded: number; errors: { file: string; message: string }[] } {
    const before = [...this.dir.keys()];
    this.dir.clear();
    let loaded = 0;
    const errors: { file: string; message: string }[] = [];
    if (this.xmlDir) {
      try {
        const r = loadObjectsFromDir(this.xmlDir, { maxXmlBytes: this.limits.maxXmlBytes });
        for (const e of r.errors) errors.push({ file: e.file, message: e.error.message });
        for (const model of r.objects) {
          this.put(this.dir, model);
          loaded++;
        }
      } catch (err) {
        errors.push({ file: this.xmlDir, message: (err as Error).message });
      }
    }
    for (const e of errors) this.logger.warn({ file: e.file, err: e.message }, 'object XML skipped');
    for (const id of new Set([...before, ...this.dir.keys()])) this.rebuild(id);
    return { loaded, errors };
  }

  /**
   * Adds the objects of an OMA object XML document to the live registry and the store.
   * Throws M2M_LWM2M_BAD_OBJECT_XML (the parser's message) or M2M_LWGW_BAD_OBJECT when over a limit.
   */
  async upload(xml: string): Promise<ObjectModel[]> {
    if (Buffer.byteLength(xml) > this.limits.maxXmlBytes) throw GwErrors.badObject(`larger than ${this.limits.maxXmlBytes} bytes`);
    const models = parseObjectXml(xml, 'uploaded XML', { maxXmlBytes: this.limits.maxXmlBytes });
    const fresh = models.filter((m) => !this.api.get(m.id)?.has(m.version)).length;
    if (this.count() + fresh > this.limits.maxUserObjects) throw GwErrors.badObject(`more than ${this.limits.maxUserObjects} uploaded objects`);
    await this.kv.batch(models.map((m) => ({ type: 'put' as const, key: key(m.id, m.version), value: { xml } satisfies StoredObject })));
    for (const m of models) {
      this.put(this.api, m);
      this.rebuild(m.id);
    }
    return models;
  }

  /**
   * Removes every user version of an object: uploaded ones from the store, xml_dir ones from
   * the live registry (their file brings them back on reload). False when the id has no user object.
   */
  async remove(id: number): Promise<boolean> {
    const uploaded = this.api.get(id);
    const fromDir = this.dir.get(id);
    if (!uploaded && !fromDir) return false;
    if (uploaded) await this.kv.batch([...uploaded.keys()].map((v) => ({ type: 'del' as const, key: key(id, v) })));
    this.api.delete(id);
    this.dir.delete(id);
    this.rebuild(id);
    return true;
  }

  list(): ObjectSummary[] {
    return this.registry.objects().map((o) => this.summary(o));
  }

  /** One object's model (latest version, or `version`), with where it comes from. */
  get(id: number, version?: string): Record<string, unknown> | undefined {
    const o = this.registry.getObject(id, version);
    if (!o || (version !== undefined && o.version !== version)) return undefined;
    return { ...objectToJson(o, this.sourceOf(o.id, o.version)), versions: this.registry.versions(id) };
  }

  private summary(o: ObjectModel): ObjectSummary {
    const source = this.sourceOf(o.id, o.version);
    const s: ObjectSummary = { id: o.id, name: o.name, version: o.version, versions: this.registry.versions(o.id), source };
    if (source === 'user') s.origin = this.api.get(o.id)?.has(o.version) ? 'api' : 'xml_dir';
    return s;
  }

  private sourceOf(id: number, version: string): ObjectSource {
    return this.api.get(id)?.has(version) || this.dir.get(id)?.has(version) ? 'user' : 'builtin';
  }

  private count(): number {
    let n = 0;
    for (const m of this.api.values()) n += m.size;
    return n;
  }

  private put(target: Map<number, Map<string, ObjectModel>>, m: ObjectModel): void {
    const byVersion = target.get(m.id) ?? new Map<string, ObjectModel>();
    byVersion.set(m.version, m);
    target.set(m.id, byVersion);
  }

  /** The live definitions of one id: built-in versions, overlaid by xml_dir, overlaid by uploads. */
  private rebuild(id: number): void {
    this.registry.remove(id);
    for (const v of this.builtin.versions(id)) this.registry.add(this.builtin.getObject(id, v) as ObjectModel);
    for (const model of this.dir.get(id)?.values() ?? []) this.registry.add(model);
    for (const model of this.api.get(id)?.values() ?? []) this.registry.add(model);
  }
}
