import type { ClientRequest, ClientResponse, CoapOption, IncomingRequest, OutgoingResponse } from '@m2mhub/coap';
import { type PeerAddress, type Scheduler, type TimerHandle, TypedEmitter, systemScheduler } from '@m2mhub/core';
import {
  type CodecRegistry,
  ContentFormat,
  Lwm2mPath,
  type Lwm2mValue,
  type ModelProvider,
  type ResourceValue,
  createObjectRegistry,
  defaultCodecs,
} from '@m2mhub/lwm2m';
import { AttributeStore } from './attributes';
import type { ObjectTree } from './object-tree';

/** What a simulated device needs from its CoAP endpoint (one per device, own UDP port). */
export interface DeviceCoapPort {
  request(peer: PeerAddress, req: ClientRequest): Promise<ClientResponse>;
  /**
   * Sends a notification (RFC 7641 §4.2): a response with the observation's token and
   * Observe = `seq`. Resolves 'reset' when the server no longer observes (§3.6).
   */
  notify(peer: PeerAddress, token: Uint8Array, seq: number, res: OutgoingResponse, confirmable: boolean): Promise<'acked' | 'reset' | 'timeout' | 'sent'>;
}

export interface SimFormats {
  /** Format for multi-value answers without Accept (default SenML JSON). */
  multi: number;
  /** Format for a single resource without Accept (default text/plain). */
  single: number;
  /** Formats the device accepts in Accept / Content-Format (others: 4.06 / 4.15). */
  supported: number[];
}

export interface SimDeviceOptions {
  endpoint: string;
  server: PeerAddress;
  tree: ObjectTree;
  lwm2mVersion?: '1.0' | '1.1' | '1.2';
  /** Seconds (default 300). */
  lifetime?: number;
  /** Binding as sent in `b=`; omitted when undefined. */
  binding?: string;
  /** 1.1 `Q` flag (queue mode). */
  queueMode?: boolean;
  /** A root link put first in the payload, e.g. `</>;rt="oma.lwm2m";ct=110`. */
  rootLink?: string;
  formats?: Partial<SimFormats>;
  /** Versions to retry with when the server answers 4.12 (Anjay: 1.2 then 1.1). */
  fallbackVersions?: ('1.0' | '1.1' | '1.2')[];
  /** Send notifications confirmable (default NON, as both real clients). */
  confirmableNotifications?: boolean;
  /** Send an Update automatically before the lifetime ends (default false; the test drives it). */
  autoUpdate?: boolean;
  model?: ModelProvider;
  codecs?: CodecRegistry;
  scheduler?: Scheduler;
}

export interface SimDeviceEvents extends Record<string, unknown> {
  request: { method: string; path: string; query: string[] };
  executed: { path: string; args: string };
  registered: { location: string };
  bootstrapFinished: { tree: ObjectTree };
}

interface SimObservation {
  token: Uint8Array;
  peer: PeerAddress;
  paths: Lwm2mPath[];
  composite: boolean;
  format: number;
  seq: number;
  lastSentAt: number;
  last: string;
  pending: TimerHandle | undefined;
  pmaxTimer: TimerHandle | undefined;
}

const OBSERVE = 6;
const LWM2M_FORMATS = [
  ContentFormat.TEXT,
  ContentFormat.OPAQUE,
  ContentFormat.CBOR,
  ContentFormat.SENML_JSON,
  ContentFormat.SENML_CBOR,
  ContentFormat.TLV,
  ContentFormat.LWM2M_CBOR,
  ContentFormat.LWM2M_JSON,
];

/**
 * A simulated LwM2M client, written from LwM2M Core 1.2 §6 and Transport §6.4: registers,
 * answers Read/Discover/Write/Write-Attributes/Execute/Create/Delete/composite operations,
 * Observe with pmin/pmax, Send, queue mode and the client side of Bootstrap. Per-device state
 * is a few maps: many devices can share a process.
 */
export class SimulatedDevice extends TypedEmitter<SimDeviceEvents> {
  readonly endpoint: string;
  tree: ObjectTree;
  readonly attributes = new AttributeStore();
  lwm2mVersion: '1.0' | '1.1' | '1.2';
  lifetime: number;
  /** Registration location ("/rd/abc") after Register. */
  location: string | undefined;
  /** While asleep (queue mode) the device neither answers nor processes datagrams. */
  asleep = false;
  private readonly opts: SimDeviceOptions & { server: PeerAddress };
  private readonly formats: SimFormats;
  private readonly model: ModelProvider;
  private readonly codecs: CodecRegistry;
  private readonly scheduler: Scheduler;
  private port: DeviceCoapPort | undefined;
  private readonly observations = new Map<string, SimObservation>();
  private updateTimer: TimerHandle | undefined;
  private bootstrapWaiter: ((tree: ObjectTree) => void) | undefined;

  constructor(opts: SimDeviceOptions) {
    super();
    this.opts = { ...opts };
    this.endpoint = opts.endpoint;
    this.tree = opts.tree;
    this.lwm2mVersion = opts.lwm2mVersion ?? '1.1';
    this.lifetime = opts.lifetime ?? 300;
    this.formats = {
      multi: opts.formats?.multi ?? ContentFormat.SENML_JSON,
      single: opts.formats?.single ?? ContentFormat.TEXT,
      supported: opts.formats?.supported ?? LWM2M_FORMATS,
    };
    this.model = opts.model ?? sharedModel();
    this.codecs = opts.codecs ?? sharedCodecs();
    this.scheduler = opts.scheduler ?? systemScheduler;
  }

  /** Points the device at another LwM2M server (e.g. the one a bootstrap wrote). */
  setServer(server: PeerAddress): void {
    this.opts.server = server;
  }

  /** The first non-bootstrap LwM2M Server account in the tree (/0 + /1), after a bootstrap. */
  serverAccount(): { uri: string; shortServerId: number; lifetime?: number; binding?: string; pskIdentity?: string } | undefined {
    const sec = this.tree.objects.get(0);
    if (!sec) return undefined;
    for (const inst of sec.instances.values()) {
      if (inst.get(1) === true) continue;
      const uri = inst.get(0);
      const ssid = inst.get(10);
      if (typeof uri !== 'string' || typeof ssid !== 'number') continue;
      const out: { uri: string; shortServerId: number; lifetime?: number; binding?: string; pskIdentity?: string } = { uri, shortServerId: ssid };
      const id = inst.get(3);
      // /0/x/3 is a PSK identity only in PSK mode (0); RPK/X.509 put DER there (LwM2M Core E.1).
      const mode = inst.get(2);
      if (id instanceof Uint8Array && id.length > 0 && (mode === 0 || mode === undefined)) out.pskIdentity = Buffer.from(id).toString('utf8');
      for (const srv of this.tree.objects.get(1)?.instances.values() ?? []) {
        if (srv.get(0) !== ssid) continue;
        const lt = srv.get(1);
        const b = srv.get(7);
        if (typeof lt === 'number') out.lifetime = lt;
        if (typeof b === 'string') out.binding = b;
      }
      return out;
    }
    return undefined;
  }

  attach(port: DeviceCoapPort): void {
    this.port = port;
  }

  private get coap(): DeviceCoapPort {
    if (!this.port) throw new Error('device is not attached to a CoAP endpoint');
    return this.port;
  }

  // ------------------------------------------------------------ registration (client side)

  /** The Register payload (LwM2M Core §6.2.1.1). */
  registrationPayload(): string {
    const links = this.tree.registrationLinks();
    if (this.opts.rootLink) links.unshift(this.opts.rootLink);
    return links.join(',');
  }

  /** LwM2M Core §6.2.1 Register; resolves with the response (2.01 sets `location`). */
  async register(): Promise<ClientResponse> {
    const versions = [this.lwm2mVersion, ...(this.opts.fallbackVersions ?? [])];
    let res: ClientResponse | undefined;
    for (const v of versions) {
      const query = [`ep=${this.endpoint}`, `lt=${this.lifetime}`, `lwm2m=${v}`];
      if (this.opts.binding !== undefined) query.push(`b=${this.opts.binding}`);
      if (this.opts.queueMode) query.push('Q');
      res = await this.coap.request(this.opts.server, {
        method: 'POST',
        path: ['rd'],
        query,
        contentFormat: ContentFormat.LINK,
        payload: utf8(this.registrationPayload()),
      });
      // Anjay's behaviour: on 4.12 Precondition Failed retry with the next version.
      if (res.code !== '4.12') {
        this.lwm2mVersion = v;
        break;
      }
    }
    if (res && res.code === '2.01') {
      const loc = stringOptions(res.options, 8);
      this.location = `/${loc.join('/')}`;
      this.emit('registered', { location: this.location });
      this.armUpdate();
    }
    return res!;
  }

  private armUpdate(): void {
    this.updateTimer?.cancel();
    if (!this.opts.autoUpdate) return;
    this.updateTimer = this.scheduler.setTimeout(() => void this.update().catch(() => undefined), this.lifetime * 900);
  }

  /** LwM2M Core §6.2.2 Update; `withObjects` adds the object list payload. */
  async update(opts: { lifetime?: number; withObjects?: boolean; binding?: string } = {}): Promise<ClientResponse> {
    if (!this.location) throw new Error('not registered');
    const query: string[] = [];
    if (opts.lifetime !== undefined) {
      this.lifetime = opts.lifetime;
      query.push(`lt=${opts.lifetime}`);
    }
    if (opts.binding !== undefined) query.push(`b=${opts.binding}`);
    const req: ClientRequest = { method: 'POST', path: this.location, query };
    if (opts.withObjects) {
      req.payload = utf8(this.registrationPayload());
      req.contentFormat = ContentFormat.LINK;
    }
    const res = await this.coap.request(this.opts.server, req);
    this.armUpdate();
    return res;
  }

  /** LwM2M Core §6.2.3 De-register. */
  async deregister(): Promise<ClientResponse> {
    if (!this.location) throw new Error('not registered');
    const res = await this.coap.request(this.opts.server, { method: 'DELETE', path: this.location });
    this.location = undefined;
    this.updateTimer?.cancel();
    this.stopObservations();
    return res;
  }

  /** Queue mode (LwM2M Core §6.5.4): stop answering until `wake`. */
  sleep(): void {
    this.asleep = true;
  }

  /** Wakes up and tells the server with an Update (which flushes its queue). */
  async wake(): Promise<ClientResponse> {
    this.asleep = false;
    return this.update();
  }

  /** LwM2M Core §6.4.3 Send (1.1+): POST /dp with the current values of `paths`. */
  async send(paths: string[], format: number = ContentFormat.SENML_CBOR): Promise<ClientResponse> {
    const values = paths.flatMap((p) => this.tree.read(Lwm2mPath.parse(p)));
    const payload = this.encode(values, Lwm2mPath.ROOT, format);
    return this.coap.request(this.opts.server, { method: 'POST', path: ['dp'], contentFormat: format, payload });
  }

  /**
   * Client-initiated Bootstrap (LwM2M Core §6.1.3): POST /bs?ep=..., then the Bootstrap Server
   * writes; resolves with the tree once Bootstrap-Finish arrived.
   */
  async bootstrap(bsServer: PeerAddress): Promise<ObjectTree> {
    const done = new Promise<ObjectTree>((resolve) => {
      this.bootstrapWaiter = resolve;
    });
    const res = await this.coap.request(bsServer, { method: 'POST', path: ['bs'], query: [`ep=${this.endpoint}`] });
    if (res.code !== '2.04') throw new Error(`bootstrap request answered ${res.code}`);
    return done;
  }

  // ------------------------------------------------------------ values changed by the test

  /** Changes values and notifies observers as the attributes allow (pmin, gt/lt/st). */
  setValues(values: ResourceValue[]): void {
    this.tree.write(values);
    this.changed(values);
  }

  private changed(values: ResourceValue[]): void {
    for (const o of this.observations.values()) {
      if (values.some((v) => o.paths.some((p) => Lwm2mPath.parse(v.path).startsWith(p) || p.startsWith(Lwm2mPath.parse(v.path))))) {
        this.maybeNotify(o);
      }
    }
  }

  setValue(path: string, value: Lwm2mValue): void {
    this.setValues([{ path, value }]);
  }

  // ------------------------------------------------------------ server role (server -> device)

  /** Answers one request from the LwM2M (or bootstrap) server. */
  handle(req: IncomingRequest): OutgoingResponse {
    this.emit('request', { method: req.method, path: `/${req.path.join('/')}`, query: req.query });
    try {
      return this.dispatch(req);
    } catch (e) {
      return { code: '4.00', payload: utf8(String((e as Error).message).slice(0, 100)) };
    }
  }

  private dispatch(req: IncomingRequest): OutgoingResponse {
    if (req.path.length === 1 && req.path[0] === 'bs' && req.method === 'POST') return this.bootstrapFinish();
    let path: Lwm2mPath;
    try {
      path = req.path.length === 0 ? Lwm2mPath.ROOT : Lwm2mPath.parse(`/${req.path.join('/')}`);
    } catch {
      return { code: '4.04' };
    }
    switch (req.method) {
      case 'GET':
        if (req.accept === ContentFormat.LINK) return this.discover(path);
        if (req.observe === 0) return this.observe(req, [path], false);
        if (req.observe === 1) this.cancel(req.message.token);
        // LwM2M Core 1.1 Bootstrap-Read: Server (1) and Access Control (2) objects only;
        // the Security object's keys never leave the device (4.01 Unauthorized).
        if (this.bootstrapWaiter && path.objectId !== 1 && path.objectId !== 2) return { code: '4.01' };
        return this.read(path, req.accept);
      case 'FETCH': {
        const paths = this.requestedPaths(req);
        if (req.observe === 0) return this.observe(req, paths, true);
        if (req.observe === 1) this.cancel(req.message.token);
        return this.readComposite(paths, req.accept);
      }
      case 'PUT':
        if (req.payload.length === 0 && req.query.length > 0) return this.writeAttributes(path, req.query);
        return this.write(path, req, true);
      case 'POST':
        if (path.level === 'resource') return this.execute(path, req);
        if (path.level === 'instance') return this.write(path, req, false);
        if (path.level === 'object') return this.create(path, req);
        return { code: '4.05' };
      case 'DELETE':
        return this.delete(path);
      case 'iPATCH':
        return this.writeComposite(req);
      default:
        return { code: '4.05' };
    }
  }

  private read(path: Lwm2mPath, accept: number | undefined): OutgoingResponse {
    if (path.level === 'root') return { code: '4.05' };
    if (!this.tree.exists(path)) return { code: '4.04' };
    return this.content(this.tree.read(path), path, accept);
  }

  private content(values: ResourceValue[], path: Lwm2mPath, accept: number | undefined): OutgoingResponse {
    const single = (path.level === 'resource' && !this.tree.isMulti(path)) || path.level === 'resourceInstance';
    const format = accept ?? (single ? this.formats.single : this.formats.multi);
    if (!this.formats.supported.includes(format)) return { code: '4.06' };
    try {
      return { code: '2.05', contentFormat: format, payload: this.encode(values, path, format) };
    } catch {
      return { code: '4.06' };
    }
  }

  private encode(values: ResourceValue[], path: Lwm2mPath, format: number): Uint8Array {
    const codec = this.codecs.get(format);
    if (!codec) throw new Error(`no codec for ${format}`);
    return codec.encode(values, { path, model: this.model, versions: this.versions() });
  }

  private decode(req: IncomingRequest, path: Lwm2mPath): ResourceValue[] {
    const format = req.contentFormat ?? ContentFormat.TEXT;
    const codec = this.codecs.get(format);
    if (!codec || !this.formats.supported.includes(format)) throw new UnsupportedFormat();
    return codec.decode(req.payload, { path, model: this.model, versions: this.versions() });
  }

  private versions(): Map<number, string> {
    const m = new Map<number, string>();
    for (const [id, o] of this.tree.objects) if (o.version !== undefined) m.set(id, o.version);
    return m;
  }

  private requestedPaths(req: IncomingRequest): Lwm2mPath[] {
    const codec = this.codecs.get(req.contentFormat ?? -1);
    if (!codec?.decodePaths) throw new Error('composite request without a SenML/CBOR payload');
    return codec.decodePaths(req.payload);
  }

  private readComposite(paths: Lwm2mPath[], accept: number | undefined): OutgoingResponse {
    const values = paths.flatMap((p) => this.tree.read(p));
    return this.content(values, Lwm2mPath.ROOT, accept ?? this.formats.multi);
  }

  private discover(path: Lwm2mPath): OutgoingResponse {
    if (path.level === 'root') return this.bootstrapDiscover();
    if (!this.tree.exists(path)) return { code: '4.04' };
    // LwM2M Core §5.4.2: the path itself, its instances / resources, with attributes.
    const links: string[] = [];
    const o = path.objectId!;
    const obj = this.tree.objects.get(o)!;
    const self = `<${path.toString()}>${path.level === 'object' && obj.version ? `;ver=${obj.version}` : ''}${this.attributes.linkParams(path)}`;
    links.push(self);
    const insts = path.instanceId === undefined ? [...obj.instances.keys()] : [path.instanceId];
    for (const i of insts.sort((a, b) => a - b)) {
      const inst = obj.instances.get(i)!;
      if (path.level === 'object') links.push(`</${o}/${i}>${this.attributes.linkParams(Lwm2mPath.of(o, i))}`);
      const ress = path.resourceId === undefined ? [...inst.keys()] : [];
      for (const r of ress.sort((a, b) => a - b)) {
        const rv = inst.get(r);
        const dim = rv instanceof Map ? `;dim=${rv.size}` : '';
        links.push(`</${o}/${i}/${r}>${dim}${this.attributes.linkParams(Lwm2mPath.of(o, i, r))}`);
      }
    }
    return { code: '2.05', contentFormat: ContentFormat.LINK, payload: utf8(links.join(',')) };
  }

  /** LwM2M Core 1.1 Bootstrap-Discover on "/": the enabler version, then objects and instances (with /0's ssid). */
  private bootstrapDiscover(): OutgoingResponse {
    if (this.lwm2mVersion === '1.0') return { code: '4.05' };
    const links = [`</>;lwm2m=${this.lwm2mVersion}`];
    for (const [id, o] of [...this.tree.objects].sort((a, b) => a[0] - b[0])) {
      if (o.instances.size === 0) links.push(`</${id}>${o.version ? `;ver=${o.version}` : ''}`);
      for (const [i, inst] of [...o.instances].sort((a, b) => a[0] - b[0])) {
        const ssid = id === 0 ? inst.get(10) : id === 1 ? inst.get(0) : undefined;
        links.push(`</${id}/${i}>${typeof ssid === 'number' && inst.get(1) !== true ? `;ssid=${ssid}` : ''}`);
      }
    }
    return { code: '2.05', contentFormat: ContentFormat.LINK, payload: utf8(links.join(',')) };
  }

  private write(path: Lwm2mPath, req: IncomingRequest, replace: boolean): OutgoingResponse {
    if (path.level === 'root' || path.level === 'object') return { code: '4.05' };
    if (!this.tree.exists(path) && !this.bootstrapWaiter) return { code: '4.04' };
    let values: ResourceValue[];
    try {
      values = this.decode(req, path);
    } catch (e) {
      return e instanceof UnsupportedFormat ? { code: '4.15' } : { code: '4.00' };
    }
    if (!this.bootstrapWaiter) {
      for (const v of values) {
        const p = Lwm2mPath.parse(v.path);
        const m = this.model.getResource(p.objectId!, p.resourceId!);
        if (m && !m.operations.includes('W')) return { code: '4.05' };
      }
    }
    // LwM2M Core §6.3.3: replace (PUT) on an instance or a multiple resource drops what is not written.
    this.tree.write(values, replace ? path : undefined);
    this.changed(values);
    return { code: '2.04' };
  }

  private writeComposite(req: IncomingRequest): OutgoingResponse {
    let values: ResourceValue[];
    try {
      values = this.decode(req, Lwm2mPath.ROOT);
    } catch (e) {
      return e instanceof UnsupportedFormat ? { code: '4.15' } : { code: '4.00' };
    }
    for (const v of values) if (!this.tree.exists(Lwm2mPath.parse(v.path).parent())) return { code: '4.04' };
    this.setValues(values);
    return { code: '2.04' };
  }

  private writeAttributes(path: Lwm2mPath, query: string[]): OutgoingResponse {
    if (!this.tree.exists(path)) return { code: '4.04' };
    try {
      this.attributes.apply(path, query);
    } catch {
      return { code: '4.00' };
    }
    for (const o of this.observations.values()) if (o.paths.some((p) => p.startsWith(path))) this.armPmax(o);
    return { code: '2.04' };
  }

  private execute(path: Lwm2mPath, req: IncomingRequest): OutgoingResponse {
    if (!this.tree.exists(path)) return { code: '4.04' };
    const m = this.model.getResource(path.objectId!, path.resourceId!);
    if (m && m.operations !== 'E') return { code: '4.05' };
    this.emit('executed', { path: path.toString(), args: Buffer.from(req.payload).toString('utf8') });
    return { code: '2.04' };
  }

  private create(path: Lwm2mPath, req: IncomingRequest): OutgoingResponse {
    let values: ResourceValue[];
    try {
      values = this.decode(req, path);
    } catch (e) {
      return e instanceof UnsupportedFormat ? { code: '4.15' } : { code: '4.00' };
    }
    // The new instance id is in the payload paths (TLV instance / SenML names), else the lowest free one.
    const withInst = values.map((v) => Lwm2mPath.parse(v.path)).find((p) => p.instanceId !== undefined);
    const inst = withInst?.instanceId ?? this.tree.freeInstanceId(path.objectId!);
    if (this.tree.instance(path.objectId!, inst)) return { code: '4.00' };
    this.tree.instance(path.objectId!, inst, true);
    this.tree.write(values.map((v) => (Lwm2mPath.parse(v.path).instanceId === undefined ? { ...v, path: `${path.toString()}/${inst}${v.path.slice(path.toString().length)}` } : v)));
    return { code: '2.01', locationPath: [String(path.objectId), String(inst)] };
  }

  private delete(path: Lwm2mPath): OutgoingResponse {
    if (this.bootstrapWaiter && (path.level === 'root' || path.level === 'object')) {
      // LwM2M Core §6.1.7.5 Bootstrap-Delete on "/" or an object: everything but the bootstrap account.
      for (const [oid, obj] of this.tree.objects) {
        if (path.objectId !== undefined && path.objectId !== oid) continue;
        for (const [iid, inst] of [...obj.instances]) if (!(oid === 0 && inst.get(1) === true)) obj.instances.delete(iid);
      }
      return { code: '2.02' };
    }
    if (path.level !== 'instance') return { code: '4.05' };
    return this.tree.deleteInstance(path.objectId!, path.instanceId!) ? { code: '2.02' } : { code: '4.04' };
  }

  private bootstrapFinish(): OutgoingResponse {
    const w = this.bootstrapWaiter;
    if (!w) return { code: '4.04' };
    this.bootstrapWaiter = undefined;
    queueMicrotask(() => {
      this.emit('bootstrapFinished', { tree: this.tree });
      w(this.tree);
    });
    return { code: '2.04' };
  }

  // ------------------------------------------------------------ observe (RFC 7641 server side)

  private observe(req: IncomingRequest, paths: Lwm2mPath[], composite: boolean): OutgoingResponse {
    for (const p of paths) if (!this.tree.exists(p) || p.level === 'root') return { code: '4.04' };
    const base = composite ? Lwm2mPath.ROOT : paths[0]!;
    const values = paths.flatMap((p) => this.tree.read(p));
    const res = this.content(values, base, req.accept);
    if (res.code !== '2.05') return res;
    const token = req.message.token;
    const key = Buffer.from(token).toString('hex');
    this.cancel(token);
    const o: SimObservation = {
      token,
      peer: req.peer,
      paths,
      composite,
      format: res.contentFormat!,
      seq: 0,
      lastSentAt: this.scheduler.now(),
      last: snapshot(values),
      pending: undefined,
      pmaxTimer: undefined,
    };
    this.observations.set(key, o);
    this.armPmax(o);
    res.options = [{ number: OBSERVE, value: new Uint8Array([0]) }];
    return res;
  }

  /** The server answered a notification with RST (RFC 7641 §3.6): it no longer observes. */
  observationReset(token: Uint8Array): void {
    this.cancel(token);
  }

  private cancel(token: Uint8Array): void {
    const key = Buffer.from(token).toString('hex');
    const o = this.observations.get(key);
    if (!o) return;
    o.pending?.cancel();
    o.pmaxTimer?.cancel();
    this.observations.delete(key);
  }

  /** Stops every observation (e.g. the server reset a notification, or de-registration). */
  stopObservations(): void {
    for (const o of [...this.observations.values()]) this.cancel(o.token);
  }

  /** Observations the device currently serves (for tests). */
  get observationCount(): number {
    return this.observations.size;
  }

  private attrsOf(o: SimObservation) {
    return o.composite ? {} : this.attributes.effective(o.paths[0]!);
  }

  private armPmax(o: SimObservation): void {
    o.pmaxTimer?.cancel();
    o.pmaxTimer = undefined;
    const pmax = this.attrsOf(o).pmax;
    if (pmax === undefined || pmax <= 0) return;
    o.pmaxTimer = this.scheduler.setTimeout(() => this.sendNotification(o), pmax * 1000);
  }

  private maybeNotify(o: SimObservation): void {
    const values = o.paths.flatMap((p) => this.tree.read(p));
    const snap = snapshot(values);
    if (snap === o.last) return;
    const a = this.attrsOf(o);
    // LwM2M Core §5.1.2: gt/lt notify on crossing, st on a change of at least `st`.
    const one = values.length === 1 ? values[0]!.value : undefined;
    if (typeof one === 'number' && (a.gt !== undefined || a.lt !== undefined || a.st !== undefined)) {
      const prev = Number(JSON.parse(o.last)[0]?.[1]);
      const crossed = (t: number | undefined) => t !== undefined && (prev - t) * (one - t) <= 0 && prev !== one;
      const stepped = a.st !== undefined && Math.abs(one - prev) >= a.st;
      if (!crossed(a.gt) && !crossed(a.lt) && !stepped) return;
    }
    if (o.pending) return;
    const wait = (a.pmin ?? 0) * 1000 - (this.scheduler.now() - o.lastSentAt);
    if (wait <= 0) this.sendNotification(o);
    else
      o.pending = this.scheduler.setTimeout(() => {
        o.pending = undefined;
        this.sendNotification(o);
      }, wait);
  }

  private sendNotification(o: SimObservation): void {
    o.pending?.cancel();
    o.pending = undefined;
    if (!this.observations.has(Buffer.from(o.token).toString('hex')) || this.asleep) return;
    const values = o.paths.flatMap((p) => this.tree.read(p));
    o.last = snapshot(values);
    o.lastSentAt = this.scheduler.now();
    o.seq = (o.seq + 1) & 0xffffff;
    let payload: Uint8Array;
    try {
      payload = this.encode(values, o.composite ? Lwm2mPath.ROOT : o.paths[0]!, o.format);
    } catch {
      return;
    }
    void this.port
      ?.notify(o.peer, o.token, o.seq, { code: '2.05', contentFormat: o.format, payload }, this.opts.confirmableNotifications ?? false)
      .then((r) => {
        if (r === 'reset' || r === 'timeout') this.cancel(o.token);
      })
      .catch(() => this.cancel(o.token));
    this.armPmax(o);
  }

  /** Sends a notification now, whatever the attributes say (tests). */
  notifyNow(): void {
    for (const o of this.observations.values()) this.sendNotification(o);
  }

  close(): void {
    this.updateTimer?.cancel();
    this.stopObservations();
  }
}

class UnsupportedFormat extends Error {}

function snapshot(values: ResourceValue[]): string {
  return JSON.stringify(values.map((v) => [v.path, v.value instanceof Uint8Array ? Buffer.from(v.value).toString('hex') : typeof v.value === 'bigint' ? v.value.toString() : v.value]));
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function stringOptions(options: CoapOption[], n: number): string[] {
  return options.filter((o) => o.number === n).map((o) => Buffer.from(o.value).toString('utf8'));
}

let model: ModelProvider | undefined;
let codecs: CodecRegistry | undefined;
/** One model and one codec table for every simulated device in the process (devices stay small). */
function sharedModel(): ModelProvider {
  model ??= createObjectRegistry().registry;
  return model;
}
function sharedCodecs(): CodecRegistry {
  codecs ??= defaultCodecs();
  return codecs;
}
