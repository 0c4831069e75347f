/**
 * The LwM2M server's durability ports (RegistrationStore, ObservationStore,
 * RequestQueueStore) on @m2mhub/store (DESIGN.md §5): the embedded backend on one node,
 * Redis in a cluster. Registrations, observations and queued requests survive a restart.
 */
import type { ObservationRecord, ObservationStore, QueuedRequest, Registration, RegistrationStore, RequestQueueStore } from '@m2mhub/lwm2m';
import type { KeyValueStore } from '@m2mhub/store';

const PAGE = 500;

/** Endpoint names may hold '/', which would blur key prefixes. */
const enc = (s: string): string => encodeURIComponent(s);

async function* scan<T>(kv: KeyValueStore, prefix: string): AsyncIterable<{ key: string; value: T }> {
  let after: string | undefined;
  for (;;) {
    const page = await kv.list<T>(after === undefined ? { prefix, limit: PAGE } : { prefix, after, limit: PAGE });
    for (const e of page) yield e;
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.key;
  }
}

/** Which node holds a registration's UDP/DTLS session (`own/<endpoint>`), in a cluster. */
export interface OwnerRecord {
  node: string;
  id: string;
}

/**
 * `reg/<id>` -> Registration, `ep/<endpoint>` -> id. Every device request looks its
 * registration up, so the ones this process wrote or read are kept in a bounded in-memory
 * cache (write-through; `cacheSize` entries, oldest dropped first).
 *
 * With `nodeId` (a cluster sharing the store, docs/mqtt-api.md "Cluster"): each write of a
 * registration (a Register or Update received on this node) records this node as its owner,
 * in the registration (`node`) and in `own/<endpoint>`; `list` yields only the registrations
 * this node owns (what its LwM2M server restores and expires), and `get(id)` reads the store
 * (another node may have replaced or removed the registration since it was cached).
 */
export class KvRegistrationStore implements RegistrationStore {
  private readonly byId = new Map<string, Registration>();
  private readonly idByEp = new Map<string, string>();
  constructor(
    private readonly kv: KeyValueStore,
    private readonly cacheSize = 100_000,
    private readonly nodeId?: string,
  ) {}
  private remember(reg: Registration): void {
    this.byId.delete(reg.id);
    this.byId.set(reg.id, reg);
    this.idByEp.set(reg.endpoint, reg.id);
    while (this.byId.size > this.cacheSize) {
      const [id, old] = this.byId.entries().next().value as [string, Registration];
      this.byId.delete(id);
      if (this.idByEp.get(old.endpoint) === id) this.idByEp.delete(old.endpoint);
    }
  }
  private forget(reg: Registration): void {
    this.byId.delete(reg.id);
    if (this.idByEp.get(reg.endpoint) === reg.id) this.idByEp.delete(reg.endpoint);
  }
  async put(reg: Registration): Promise<Registration | undefined> {
    const oldId = this.idByEp.get(reg.endpoint) ?? (await this.kv.get<string>(`ep/${enc(reg.endpoint)}`));
    const old = oldId === undefined || oldId === reg.id ? undefined : await this.get(oldId);
    const ops: Parameters<KeyValueStore['batch']>[0] = [
      { type: 'put', key: `reg/${reg.id}`, value: this.nodeId === undefined ? reg : { ...reg, node: this.nodeId } },
      { type: 'put', key: `ep/${enc(reg.endpoint)}`, value: reg.id },
    ];
    if (this.nodeId !== undefined) ops.push({ type: 'put', key: `own/${enc(reg.endpoint)}`, value: { node: this.nodeId, id: reg.id } satisfies OwnerRecord });
    if (old) ops.push({ type: 'del', key: `reg/${old.id}` });
    await this.kv.batch(ops);
    if (old) this.forget(old);
    this.remember(reg);
    return old;
  }
  async get(id: string): Promise<Registration | undefined> {
    const hit = this.byId.get(id);
    if (hit && this.nodeId === undefined) return hit;
    const reg = await this.kv.get<Registration>(`reg/${id}`);
    if (reg) this.remember(reg);
    else if (hit) this.forget(hit);
    return reg;
  }

  /** The node recorded as owner of `endpoint`'s registration (cluster only). */
  async ownerOf(endpoint: string): Promise<string | undefined> {
    return (await this.kv.get<OwnerRecord>(`own/${enc(endpoint)}`))?.node;
  }

  /** Drops `endpoint` from the cache (its registration moved to another node). */
  evict(endpoint: string): void {
    const id = this.idByEp.get(endpoint);
    const reg = id === undefined ? undefined : this.byId.get(id);
    if (reg) this.forget(reg);
    this.idByEp.delete(endpoint);
  }
  async getByEndpoint(endpoint: string): Promise<Registration | undefined> {
    const cached = this.idByEp.get(endpoint);
    if (cached !== undefined) {
      const hit = this.byId.get(cached);
      if (hit) return hit;
    }
    const id = await this.kv.get<string>(`ep/${enc(endpoint)}`);
    return id === undefined ? undefined : this.get(id);
  }
  async remove(id: string): Promise<Registration | undefined> {
    const reg = await this.get(id);
    if (!reg) return undefined;
    const ops: Parameters<KeyValueStore['batch']>[0] = [{ type: 'del', key: `reg/${id}` }];
    if ((await this.kv.get<string>(`ep/${enc(reg.endpoint)}`)) === id) {
      ops.push({ type: 'del', key: `ep/${enc(reg.endpoint)}` });
      if (this.nodeId !== undefined) ops.push({ type: 'del', key: `own/${enc(reg.endpoint)}` });
    }
    await this.kv.batch(ops);
    this.forget(reg);
    return reg;
  }
  async *list(): AsyncIterable<Registration> {
    for await (const e of scan<Registration & { node?: string }>(this.kv, 'reg/')) {
      // A registration written before the node id existed (single node) counts as ours.
      if (this.nodeId === undefined || e.value.node === undefined || e.value.node === this.nodeId) yield e.value;
    }
  }
  /** Every registration in the store, whichever node owns it (`node`, in a cluster). */
  async *listAll(): AsyncIterable<Registration & { node?: string }> {
    for await (const e of scan<Registration & { node?: string }>(this.kv, 'reg/')) yield e.value;
  }
  async count(): Promise<number> {
    let n = 0;
    for await (const _ of scan(this.kv, 'reg/')) n++;
    return n;
  }
}

/** `obs/<id>` -> ObservationRecord. */
export class KvObservationStore implements ObservationStore {
  constructor(private readonly kv: KeyValueStore) {}
  put(obs: ObservationRecord): Promise<void> {
    return this.kv.put(`obs/${obs.id}`, obs);
  }
  get(id: string): Promise<ObservationRecord | undefined> {
    return this.kv.get<ObservationRecord>(`obs/${id}`);
  }
  async remove(id: string): Promise<ObservationRecord | undefined> {
    const o = await this.get(id);
    if (o) await this.kv.delete(`obs/${id}`);
    return o;
  }
  async removeByRegistration(registrationId: string): Promise<ObservationRecord[]> {
    const out: ObservationRecord[] = [];
    for await (const e of scan<ObservationRecord>(this.kv, 'obs/')) if (e.value.registrationId === registrationId) out.push(e.value);
    if (out.length > 0) await this.kv.batch(out.map((o) => ({ type: 'del' as const, key: `obs/${o.id}` })));
    return out;
  }
  async *list(): AsyncIterable<ObservationRecord> {
    for await (const e of scan<ObservationRecord>(this.kv, 'obs/')) yield e.value;
  }
}

/** `q/<endpoint>/<queuedAt, 15 digits>-<id>` -> QueuedRequest: key order is queue order. */
export class KvRequestQueueStore implements RequestQueueStore {
  constructor(private readonly kv: KeyValueStore) {}
  private key(item: QueuedRequest): string {
    return `q/${enc(item.endpoint)}/${String(item.queuedAt).padStart(15, '0')}-${item.id}`;
  }
  async push(item: QueuedRequest, max: number): Promise<boolean> {
    if ((await this.kv.list({ prefix: `q/${enc(item.endpoint)}/`, limit: max + 1 })).length >= max) return false;
    await this.kv.put(this.key(item), item);
    return true;
  }
  async peek(endpoint: string): Promise<QueuedRequest[]> {
    const out: QueuedRequest[] = [];
    for await (const e of scan<QueuedRequest>(this.kv, `q/${enc(endpoint)}/`)) out.push(e.value);
    return out;
  }
  async remove(endpoint: string, id: string): Promise<boolean> {
    for await (const e of scan<QueuedRequest>(this.kv, `q/${enc(endpoint)}/`)) {
      if (e.value.id === id) return this.kv.delete(e.key);
    }
    return false;
  }
  async clear(endpoint: string): Promise<QueuedRequest[]> {
    const items: { key: string; value: QueuedRequest }[] = [];
    for await (const e of scan<QueuedRequest>(this.kv, `q/${enc(endpoint)}/`)) items.push(e);
    if (items.length > 0) await this.kv.batch(items.map((e) => ({ type: 'del' as const, key: e.key })));
    return items.map((e) => e.value);
  }
  async endpoints(): Promise<string[]> {
    const eps = new Set<string>();
    for await (const e of scan<QueuedRequest>(this.kv, 'q/')) eps.add(e.value.endpoint);
    return [...eps].sort();
  }
}
