import type { Registration } from './registration';
import type { DeviceRequest } from './requests';

/**
 * Durability ports (DESIGN.md §5). lwm2m may not import @m2mhub/store (layer order), so it
 * defines what it needs here; the gateway adapts the durable store to these. All async.
 */
export interface RegistrationStore {
  /** Adds or replaces the registration of `reg.endpoint`; resolves with the one it replaced. */
  put(reg: Registration): Promise<Registration | undefined>;
  get(id: string): Promise<Registration | undefined>;
  getByEndpoint(endpoint: string): Promise<Registration | undefined>;
  /** Resolves with the removed registration, if it existed. */
  remove(id: string): Promise<Registration | undefined>;
  list(): AsyncIterable<Registration>;
  count(): Promise<number>;
}

/** A persisted observation (so notifications still reach the app after a restart). */
export interface ObservationRecord {
  /** Hex of the CoAP token; also the observation id. */
  id: string;
  registrationId: string;
  endpoint: string;
  /** One path, or several for Observe-Composite. */
  paths: string[];
  composite: boolean;
  /** Content format asked (Accept). */
  contentFormat?: number;
  createdAt: number;
}

export interface ObservationStore {
  put(obs: ObservationRecord): Promise<void>;
  get(id: string): Promise<ObservationRecord | undefined>;
  remove(id: string): Promise<ObservationRecord | undefined>;
  /** Removes and returns every observation of a registration. */
  removeByRegistration(registrationId: string): Promise<ObservationRecord[]>;
  list(): AsyncIterable<ObservationRecord>;
}

/** A request waiting for a sleeping device (queue mode, LwM2M Core §6.5.4 / §7.3). */
export interface QueuedRequest {
  id: string;
  endpoint: string;
  request: DeviceRequest;
  /** Wall-clock ms after which it is answered with M2M_LWM2M_QUEUE_EXPIRED. */
  expiresAt: number;
  queuedAt: number;
  /** Opaque JSON the caller attached (e.g. the gateway's reqID), handed back in events. */
  tag?: unknown;
}

export interface RequestQueueStore {
  /** Appends; resolves false (and stores nothing) when the endpoint already has `max` items. */
  push(item: QueuedRequest, max: number): Promise<boolean>;
  /** Items of one endpoint, oldest first. */
  peek(endpoint: string): Promise<QueuedRequest[]>;
  remove(endpoint: string, id: string): Promise<boolean>;
  clear(endpoint: string): Promise<QueuedRequest[]>;
  /** Endpoints with queued items (restart recovery). */
  endpoints(): Promise<string[]>;
}

export class InMemoryRegistrationStore implements RegistrationStore {
  private readonly byId = new Map<string, Registration>();
  private readonly byEp = new Map<string, string>();
  async put(reg: Registration): Promise<Registration | undefined> {
    const oldId = this.byEp.get(reg.endpoint);
    const old = oldId === undefined ? undefined : this.byId.get(oldId);
    if (old && old.id !== reg.id) this.byId.delete(old.id);
    this.byId.set(reg.id, reg);
    this.byEp.set(reg.endpoint, reg.id);
    return old && old.id !== reg.id ? old : undefined;
  }
  async get(id: string): Promise<Registration | undefined> {
    return this.byId.get(id);
  }
  async getByEndpoint(endpoint: string): Promise<Registration | undefined> {
    const id = this.byEp.get(endpoint);
    return id === undefined ? undefined : this.byId.get(id);
  }
  async remove(id: string): Promise<Registration | undefined> {
    const reg = this.byId.get(id);
    if (!reg) return undefined;
    this.byId.delete(id);
    if (this.byEp.get(reg.endpoint) === id) this.byEp.delete(reg.endpoint);
    return reg;
  }
  async *list(): AsyncIterable<Registration> {
    for (const r of [...this.byId.values()]) yield r;
  }
  async count(): Promise<number> {
    return this.byId.size;
  }
}

export class InMemoryObservationStore implements ObservationStore {
  private readonly byId = new Map<string, ObservationRecord>();
  async put(obs: ObservationRecord): Promise<void> {
    this.byId.set(obs.id, obs);
  }
  async get(id: string): Promise<ObservationRecord | undefined> {
    return this.byId.get(id);
  }
  async remove(id: string): Promise<ObservationRecord | undefined> {
    const o = this.byId.get(id);
    this.byId.delete(id);
    return o;
  }
  async removeByRegistration(registrationId: string): Promise<ObservationRecord[]> {
    const out: ObservationRecord[] = [];
    for (const o of this.byId.values()) if (o.registrationId === registrationId) out.push(o);
    for (const o of out) this.byId.delete(o.id);
    return out;
  }
  async *list(): AsyncIterable<ObservationRecord> {
    for (const o of [...this.byId.values()]) yield o;
  }
}

export class InMemoryRequestQueueStore implements RequestQueueStore {
  private readonly queues = new Map<string, QueuedRequest[]>();
  async push(item: QueuedRequest, max: number): Promise<boolean> {
    let q = this.queues.get(item.endpoint);
    if (!q) this.queues.set(item.endpoint, (q = []));
    if (q.length >= max) return false;
    q.push(item);
    return true;
  }
  async peek(endpoint: string): Promise<QueuedRequest[]> {
    return [...(this.queues.get(endpoint) ?? [])];
  }
  async remove(endpoint: string, id: string): Promise<boolean> {
    const q = this.queues.get(endpoint);
    if (!q) return false;
    const i = q.findIndex((x) => x.id === id);
    if (i < 0) return false;
    q.splice(i, 1);
    if (q.length === 0) this.queues.delete(endpoint);
    return true;
  }
  async clear(endpoint: string): Promise<QueuedRequest[]> {
    const q = this.queues.get(endpoint) ?? [];
    this.queues.delete(endpoint);
    return q;
  }
  async endpoints(): Promise<string[]> {
    return [...this.queues.keys()];
  }
}
