import type { ClientResponse, CoapMessage, EndpointHooks, IncomingRequest, OutgoingResponse } from '@m2mhub/coap';
import {
  type Datagram,
  type Logger,
  type M2MError,
  type PeerIdentity,
  type Random,
  type Scheduler,
  TypedEmitter,
  isM2MError,
  silentLogger,
  systemRandom,
  systemScheduler,
  toHex,
} from '@m2mhub/core';
import type { CodecRegistry } from '../codec/codec-registry';
import { defaultCodecs } from '../codec/index';
import type { ModelProvider } from '../model/types';
import { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import { createObjectRegistry } from '../registry/builtin';
import { type BindingContext, decodeContent, fromCoapResponse, toCoapRequest } from './binding';
import { ServerErrors } from './errors';
import { ExpiryQueue } from './expiry';
import { type NotificationEvent, Observations } from './observations';
import { QueueMode } from './queue-mode';
import { DEFAULT_REGISTER_LIMITS, type RegisterLimits, parseObjectLinks, parseRegisterQuery } from './register-params';
import type { Registration } from './registration';
import { DEFAULT_REQUEST_LIMITS, type DeviceRequest, type NotificationAttributes, type RequestLimits, Requests, validateRequest } from './requests';
import type { DeviceResponse, } from './responses';
import {
  InMemoryObservationStore,
  InMemoryRegistrationStore,
  InMemoryRequestQueueStore,
  type ObservationRecord,
  type ObservationStore,
  type QueuedRequest,
  type RegistrationStore,
  type RequestQueueStore,
} from './stores';
import type { ServerTransport } from './transport';

export interface Lwm2mServerConfig {
  /** LwM2M Core §6.2.1: lifetime when `lt` is absent (s). */
  defaultLifetime: number;
  /** Extra time after a lifetime ends before the registration is removed (ms). */
  expiryGraceMs: number;
  /** Refuse registrations that did not come over DTLS (DESIGN.md §6 `lwm2m.require_security`). */
  requireSecurity: boolean;
  /** Queue mode: how long a device stays awake after its last datagram (ms; Leshan's 93 s). */
  awakeWindowMs: number;
  /** Queue mode: requests kept per sleeping device. */
  queueMaxRequests: number;
  /** Queue mode: how long a queued request may wait (ms). */
  queueRequestTtlMs: number;
  /** Deadline of one request to a device, retransmissions included (ms). */
  requestTimeoutMs: number;
  /** Observations per registration. */
  maxObservationsPerDevice: number;
  register: RegisterLimits;
  requests: RequestLimits;
}

export const DEFAULT_SERVER_CONFIG: Lwm2mServerConfig = {
  defaultLifetime: 86_400,
  expiryGraceMs: 5_000,
  requireSecurity: false,
  awakeWindowMs: 93_000,
  queueMaxRequests: 64,
  queueRequestTtlMs: 3_600_000,
  requestTimeoutMs: 60_000,
  maxObservationsPerDevice: 64,
  register: DEFAULT_REGISTER_LIMITS,
  requests: DEFAULT_REQUEST_LIMITS,
};

export type DeregisterReason = 'deregister' | 'expired' | 'replaced' | 'kicked';

export interface CoapLogEvent {
  direction: 'in' | 'out';
  listener: string;
  peerKey: string;
  endpoint?: string;
  type: string;
  code: string;
  messageId?: number;
  token: string;
  path?: string;
  size: number;
}

export interface Lwm2mServerEvents extends Record<string, unknown> {
  registered: { registration: Registration };
  updated: { registration: Registration; previous: Registration };
  deregistered: { registration: Registration; reason: DeregisterReason };
  sleeping: { endpoint: string; registrationId: string };
  awake: { endpoint: string; registrationId: string };
  notification: NotificationEvent;
  observationEnded: { observationId: string; endpoint: string; reason: string };
  send: { registration: Registration; contentFormat?: number; content: ResourceValue[] };
  queued: { item: QueuedRequest };
  queueResult: { item: QueuedRequest; response?: DeviceResponse; error?: M2MError };
  message: CoapLogEvent;
}

export interface SendOptions {
  /** Overrides the configured request deadline (ms). */
  timeoutMs?: number;
  /** Opaque JSON kept with a queued request and handed back in `queued` / `queueResult`. */
  tag?: unknown;
  /** Called when the request was queued for a sleeping device (queue mode). */
  onQueued?(item: QueuedRequest): void;
}

export interface Lwm2mServerOptions {
  transports?: ServerTransport[];
  registrationStore?: RegistrationStore;
  observationStore?: ObservationStore;
  queueStore?: RequestQueueStore;
  codecs?: CodecRegistry;
  model?: ModelProvider;
  scheduler?: Scheduler;
  random?: Random;
  logger?: Logger;
  config?: Partial<Lwm2mServerConfig>;
  /** Runs event publication after the CoAP reply went out (default setImmediate). */
  defer?: (fn: () => void) => void;
}

/**
 * The LwM2M server (LwM2M Core §6.2 registration, §6.3 device management, §6.4 information
 * reporting, queue mode §6.5 / Transport §6.x). Build it with `createLwm2mServer`; route a
 * CoAP endpoint to it with `attachCoapEndpoint` (or call `handleRequest` / `hooks` yourself).
 */
export class Lwm2mServer extends TypedEmitter<Lwm2mServerEvents> {
  readonly config: Lwm2mServerConfig;
  readonly registrations: RegistrationStore;
  readonly observationStore: ObservationStore;
  readonly queueStore: RequestQueueStore;
  readonly codecs: CodecRegistry;
  readonly model: ModelProvider;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly defer: (fn: () => void) => void;
  private readonly transports = new Map<string, ServerTransport>();
  /** listener -> peerKey -> registration id (Send, queue mode wake-ups, restored notifications). */
  private readonly peers = new Map<string, Map<string, string>>();
  /** Queue-mode registrations: id -> endpoint. */
  private readonly queueRegs = new Map<string, string>();
  private readonly observations: Observations;
  private readonly queue: QueueMode;
  private readonly expiry: ExpiryQueue;
  private readonly binding: BindingContext;
  private closed = false;

  constructor(opts: Lwm2mServerOptions = {}) {
    super();
    this.config = { ...DEFAULT_SERVER_CONFIG, ...opts.config };
    this.registrations = opts.registrationStore ?? new InMemoryRegistrationStore();
    this.observationStore = opts.observationStore ?? new InMemoryObservationStore();
    this.queueStore = opts.queueStore ?? new InMemoryRequestQueueStore();
    this.codecs = opts.codecs ?? defaultCodecs();
    this.model = opts.model ?? createObjectRegistry().registry;
    this.scheduler = opts.scheduler ?? systemScheduler;
    this.random = opts.random ?? systemRandom;
    this.log = (opts.logger ?? silentLogger).child({ component: 'lwm2m-server' });
    this.defer = opts.defer ?? batchedImmediate();
    this.binding = { codecs: this.codecs, model: this.model };
    this.expiry = new ExpiryQueue(this.scheduler, (id, deadline) => void this.onExpiryDue(id, deadline));
    this.observations = new Observations(this.observationStore, this.registrations, this.binding, this.scheduler, this.config.maxObservationsPerDevice, {
      notification: (ev) => this.emit('notification', ev),
      ended: (observationId, endpoint, reason) => this.emit('observationEnded', { observationId, endpoint, reason }),
    });
    this.queue = new QueueMode(
      this.queueStore,
      this.config,
      this.scheduler,
      this.random,
      {
        awake: (endpoint, registrationId) => this.emit('awake', { endpoint, registrationId }),
        sleeping: (endpoint, registrationId) => this.emit('sleeping', { endpoint, registrationId }),
        queued: (item) => this.emit('queued', { item }),
        result: (item, response, error) => {
          const ev: Lwm2mServerEvents['queueResult'] = { item };
          if (response) ev.response = response;
          if (error) ev.error = error;
          this.emit('queueResult', ev);
        },
      },
      (endpoint) => this.registrations.getByEndpoint(endpoint),
      (reg, req) => this.dispatch(reg, req, {}),
    );
    for (const t of opts.transports ?? []) this.addTransport(t);
  }

  addTransport(t: ServerTransport): void {
    this.transports.set(t.name, t);
    if (!this.peers.has(t.name)) this.peers.set(t.name, new Map());
  }

  /**
   * Restores the state kept in the stores (after a restart): lifetimes, peer addresses,
   * observations (matched through `hooks().onUnmatchedNotification`) and queued requests.
   */
  async start(): Promise<void> {
    const now = this.scheduler.wallNow();
    for await (const reg of this.registrations.list()) {
      this.index(reg);
      this.expiry.add(reg.id, Math.max(now, reg.expiresAt + this.config.expiryGraceMs));
    }
    await this.observations.restore();
    await this.queue.restore();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.expiry.close();
    this.queue.close();
  }

  // ---------------------------------------------------------------- server role (device -> us)

  /** Endpoint hooks to give the CoAP endpoint of listener `name` (queue-mode activity, restored observations, message log). */
  hooks(name: string): EndpointHooks {
    return {
      onActivity: (d, msg) => this.onActivity(name, d, msg),
      onUnmatchedNotification: (res, _peer, peerKey) => this.onUnmatchedNotification(name, res, peerKey),
    };
  }

  /** Handles a request from a device: Register, Update, De-register (`/rd`) and Send (`/dp`). */
  async handleRequest(listener: string, req: IncomingRequest): Promise<OutgoingResponse> {
    try {
      const [first, second, ...rest] = req.path;
      if (first === 'rd' && rest.length === 0) {
        if (second === undefined) return req.method === 'POST' ? await this.register(listener, req) : { code: '4.05' };
        if (req.method === 'POST') return await this.update(listener, second, req);
        if (req.method === 'DELETE') return await this.deregisterRequest(listener, second, req);
        return { code: '4.05' };
      }
      if (first === 'dp' && second === undefined) return req.method === 'POST' ? await this.onSend(listener, req) : { code: '4.05' };
      return { code: '4.04' };
    } catch (e) {
      return errorResponse(e, this.log);
    }
  }

  // LwM2M Core §6.2.1 Register: the steps in order, as Aedes' connectActions.
  private async register(listener: string, req: IncomingRequest): Promise<OutgoingResponse> {
    const params = parseRegisterQuery(req.query, this.config.register);
    const endpoint = params.endpoint;
    if (endpoint === undefined) throw ServerErrors.missingEndpoint();
    this.authorize(listener, endpoint, req.identity);
    const links = parseObjectLinks(decodeUtf8(req.payload), this.config.register);
    const now = this.scheduler.wallNow();
    const lifetime = params.lifetime ?? this.config.defaultLifetime;
    const version = params.lwm2mVersion ?? '1.0';
    const binding = params.binding ?? 'U';
    const reg: Registration = {
      id: await this.newRegistrationId(),
      endpoint,
      lifetime,
      lwm2mVersion: version,
      binding,
      // LwM2M 1.0 §5.3.1: queue mode is part of the binding (UQ, SQ, UQS); 1.1 uses the Q flag.
      queueMode: params.queue === true || binding.includes('Q'),
      alternatePath: links.alternatePath,
      objects: links.objects,
      address: req.peer,
      peerKey: req.peerKey,
      transport: this.transports.get(listener)?.kind ?? 'udp',
      listener,
      registeredAt: now,
      lastUpdate: now,
      expiresAt: now + lifetime * 1000,
    };
    if (params.smsNumber !== undefined) reg.smsNumber = params.smsNumber;
    if (links.contentFormat !== undefined) reg.contentFormat = links.contentFormat;
    if (req.identity !== undefined) reg.identity = req.identity;
    const replaced = await this.registrations.put(reg);
    if (replaced) this.unindex(replaced);
    this.index(reg);
    this.expiry.add(reg.id, reg.expiresAt + this.config.expiryGraceMs);
    this.defer(() => {
      if (replaced) this.ended(replaced, 'replaced');
      this.emit('registered', { registration: reg });
      if (reg.queueMode) this.queue.wake(reg.endpoint, reg.id);
    });
    // LwM2M Transport §6.4.3: 2.01 Created with Location-Path rd/<id>.
    return { code: '2.01', locationPath: ['rd', reg.id] };
  }

  private authorize(listener: string, endpoint: string, identity: PeerIdentity | undefined): void {
    // DESIGN.md §6: a DTLS identity is bound to its endpoint name.
    if (identity?.endpoint !== undefined && identity.endpoint !== endpoint) {
      throw ServerErrors.identityMismatch(`identity bound to another endpoint`);
    }
    const kind = this.transports.get(listener)?.kind;
    if (this.config.requireSecurity && identity === undefined && kind !== 'dtls') throw ServerErrors.securityRequired();
  }

  private idPool: Uint8Array = new Uint8Array(0);
  private idPos = 0;

  /** 48 random bits, hex; drawn from a pool so a registration storm does not make one crypto call each. */
  private async newRegistrationId(): Promise<string> {
    for (;;) {
      if (this.idPos + 6 > this.idPool.length) {
        this.idPool = this.random.bytes(3072);
        this.idPos = 0;
      }
      const id = toHex(this.idPool.subarray(this.idPos, (this.idPos += 6)));
      if (!(await this.registrations.get(id))) return id;
    }
  }

  // LwM2M Core §6.2.2 Update.
  private async update(listener: string, id: string, req: IncomingRequest): Promise<OutgoingResponse> {
    const prev = await this.registrations.get(id);
    if (!prev) throw ServerErrors.unknownRegistration(id);
    if (prev.identity !== undefined && req.identity?.id !== prev.identity.id) throw ServerErrors.identityMismatch('update from another identity');
    const params = parseRegisterQuery(req.query, this.config.register);
    if (params.endpoint !== undefined || params.lwm2mVersion !== undefined) throw ServerErrors.badRegistration('ep and lwm2m are not Update parameters');
    const now = this.scheduler.wallNow();
    const reg: Registration = { ...prev, lastUpdate: now, address: req.peer, peerKey: req.peerKey, listener };
    if (params.lifetime !== undefined) reg.lifetime = params.lifetime;
    if (params.binding !== undefined) {
      reg.binding = params.binding;
      reg.queueMode = params.queue === true || params.binding.includes('Q');
    } else if (params.queue !== undefined) reg.queueMode = true;
    if (params.smsNumber !== undefined) reg.smsNumber = params.smsNumber;
    // An Update may carry a new object list (LwM2M Core §6.2.2), with or without
    // Content-Format (the Wakaama client omits it: wakaama-client.jsonl frames 40, 46).
    if (req.payload.length > 0) {
      const links = parseObjectLinks(decodeUtf8(req.payload), this.config.register);
      reg.objects = links.objects;
      reg.alternatePath = links.alternatePath;
      if (links.contentFormat !== undefined) reg.contentFormat = links.contentFormat;
    }
    reg.expiresAt = now + reg.lifetime * 1000;
    await this.registrations.put(reg);
    this.unindex(prev);
    this.index(reg);
    // One heap entry per registration: a longer deadline is picked up when the old one surfaces.
    if (reg.expiresAt < prev.expiresAt) this.expiry.add(reg.id, reg.expiresAt + this.config.expiryGraceMs);
    this.defer(() => {
      this.emit('updated', { registration: reg, previous: prev });
      if (reg.queueMode) this.queue.wake(reg.endpoint, reg.id);
    });
    return { code: '2.04' };
  }

  // LwM2M Core §6.2.3 De-register.
  private async deregisterRequest(_listener: string, id: string, req: IncomingRequest): Promise<OutgoingResponse> {
    const prev = await this.registrations.get(id);
    if (!prev) throw ServerErrors.unknownRegistration(id);
    if (prev.identity !== undefined && req.identity?.id !== prev.identity.id) throw ServerErrors.identityMismatch('de-register from another identity');
    await this.registrations.remove(id);
    this.unindex(prev);
    this.defer(() => this.ended(prev, 'deregister'));
    return { code: '2.02' };
  }

  // LwM2M Core §6.4.3 Send (1.1+): POST /dp from a registered device.
  private async onSend(listener: string, req: IncomingRequest): Promise<OutgoingResponse> {
    const id = this.peers.get(listener)?.get(req.peerKey);
    const reg = id === undefined ? undefined : await this.registrations.get(id);
    if (!reg) throw ServerErrors.notRegistered(`no registration for ${req.peerKey}`);
    if (reg.lwm2mVersion === '1.0') throw ServerErrors.invalidRequest('Send needs LwM2M 1.1');
    let content: ResourceValue[];
    try {
      const res: { contentFormat?: number; payload: Uint8Array } = { payload: req.payload };
      if (req.contentFormat !== undefined) res.contentFormat = req.contentFormat;
      content = decodeContent(res, Lwm2mPath.ROOT, reg, this.binding);
    } catch (e) {
      throw ServerErrors.invalidRequest(`send payload: ${(e as Error).message}`, { cause: e });
    }
    const ev: Lwm2mServerEvents['send'] = { registration: reg, content };
    if (req.contentFormat !== undefined) ev.contentFormat = req.contentFormat;
    this.defer(() => this.emit('send', ev));
    return { code: '2.04' };
  }

  private index(reg: Registration): void {
    let m = this.peers.get(reg.listener);
    if (!m) this.peers.set(reg.listener, (m = new Map()));
    m.set(reg.peerKey, reg.id);
    if (reg.queueMode) this.queueRegs.set(reg.id, reg.endpoint);
    else this.queueRegs.delete(reg.id);
  }

  private unindex(reg: Registration): void {
    const m = this.peers.get(reg.listener);
    if (m?.get(reg.peerKey) === reg.id) m.delete(reg.peerKey);
    this.queueRegs.delete(reg.id);
  }

  private async onExpiryDue(id: string, deadline: number): Promise<void> {
    if (this.closed) return;
    const reg = await this.registrations.get(id);
    if (!reg) return;
    const due = reg.expiresAt + this.config.expiryGraceMs;
    if (due > deadline) {
      this.expiry.add(id, due);
      return;
    }
    await this.registrations.remove(id);
    this.unindex(reg);
    this.ended(reg, 'expired');
  }

  /** Ends a registration's side state and publishes `deregistered`. */
  private ended(reg: Registration, reason: DeregisterReason): void {
    if (reason !== 'replaced') this.queue.forget(reg.endpoint);
    void this.observations.dropRegistration(reg.id).catch((e) => this.log.warn({ err: e }, 'observation store'));
    if (reason !== 'replaced') void this.queue.failAll(reg.endpoint, ServerErrors.deregistered(`${reg.endpoint}: ${reason}`));
    this.emit('deregistered', { registration: reg, reason });
  }

  /** Removes a registration on the server's initiative (event reason `kicked`). */
  async deregister(endpoint: string): Promise<boolean> {
    const reg = await this.registrations.getByEndpoint(endpoint);
    if (!reg) return false;
    await this.registrations.remove(reg.id);
    this.unindex(reg);
    this.ended(reg, 'kicked');
    return true;
  }

  async getRegistration(endpoint: string): Promise<Registration | undefined> {
    return this.registrations.getByEndpoint(endpoint);
  }

  /** Live observations (optionally of one endpoint). */
  listObservations(endpoint?: string): ObservationRecord[] {
    return this.observations.list(endpoint);
  }

  // ---------------------------------------------------------------- queue mode

  private onActivity(listener: string, d: Datagram, msg: CoapMessage): void {
    const id = this.peers.get(listener)?.get(d.peerKey);
    if (this.listenerCount('message') > 0) {
      const ev: CoapLogEvent = { direction: 'in', listener, peerKey: d.peerKey, type: msg.type, code: msg.code, messageId: msg.messageId, token: toHex(msg.token), size: d.data.length };
      const ep = id === undefined ? undefined : this.queueRegs.get(id);
      if (ep !== undefined) ev.endpoint = ep;
      this.emit('message', ev);
    }
    if (id === undefined) return;
    const ep = this.queueRegs.get(id);
    // LwM2M Core §6.5.4 (queue mode): any datagram from the device means it is awake.
    if (ep !== undefined) this.queue.wake(ep, id);
  }

  isAwake(endpoint: string): boolean {
    return this.queue.isAwake(endpoint);
  }

  // ---------------------------------------------------------------- client role (us -> device)

  /**
   * Sends one device management request (LwM2M Core §6.3) and resolves with the device's
   * answer. Rejects with M2M_LWM2M_NOT_REGISTERED, M2M_LWM2M_INVALID_REQUEST,
   * M2M_LWM2M_DEVICE_TIMEOUT / _DEVICE_RESET, M2M_LWM2M_QUEUE_FULL / _QUEUE_EXPIRED.
   * A request for a sleeping queue-mode device waits in the queue until it wakes.
   */
  async send(endpoint: string, req: DeviceRequest, opts: SendOptions = {}): Promise<DeviceResponse> {
    validateRequest(req, this.config.requests);
    const reg = await this.registrations.getByEndpoint(endpoint);
    if (!reg) throw ServerErrors.notRegistered(endpoint);
    if (req.kind === 'cancel-observation') return this.cancelObservation(endpoint, req.observationId, req.mode ?? 'active');
    if (reg.queueMode && this.queue.mustQueue(endpoint)) return this.queue.enqueue(reg, req, opts.tag, opts.onQueued);
    return this.dispatch(reg, req, opts);
  }

  async read(endpoint: string, path: string, format?: number, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.read(path, format), opts);
  }
  async discover(endpoint: string, path: string, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.discover(path), opts);
  }
  async write(endpoint: string, path: string, values: ResourceValue[], mode: 'replace' | 'update' = 'replace', format?: number, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.write(format === undefined ? { path, values, mode } : { path, values, mode, format }), opts);
  }
  async writeAttributes(endpoint: string, path: string, attributes: NotificationAttributes, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.writeAttributes(path, attributes), opts);
  }
  async execute(endpoint: string, path: string, args?: string, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.execute(path, args), opts);
  }
  async create(endpoint: string, objectPath: string, values: ResourceValue[], instanceId?: number, format?: number, opts?: SendOptions): Promise<DeviceResponse> {
    const r: Omit<import('./requests').CreateRequest, 'kind'> = { path: objectPath, values };
    if (instanceId !== undefined) r.instanceId = instanceId;
    if (format !== undefined) r.format = format;
    return this.send(endpoint, Requests.create(r), opts);
  }
  async delete(endpoint: string, path: string, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.delete(path), opts);
  }
  async readComposite(endpoint: string, paths: string[], format?: number, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.readComposite(paths, format), opts);
  }
  async writeComposite(endpoint: string, values: ResourceValue[], format?: number, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.writeComposite(values, format), opts);
  }
  async observe(endpoint: string, path: string, format?: number, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.observe(path, format), opts);
  }
  async observeComposite(endpoint: string, paths: string[], format?: number, opts?: SendOptions): Promise<DeviceResponse> {
    return this.send(endpoint, Requests.observeComposite(paths, format), opts);
  }

  private transportOf(reg: Registration): ServerTransport {
    const t = this.transports.get(reg.listener);
    if (!t) throw ServerErrors.notRegistered(`${reg.endpoint}: listener ${reg.listener} is not attached`);
    return t;
  }

  private async dispatch(reg: Registration, req: DeviceRequest, opts: SendOptions): Promise<DeviceResponse> {
    const t = this.transportOf(reg);
    const coapReq = toCoapRequest(req, reg, this.binding);
    coapReq.timeoutMs = opts.timeoutMs ?? this.config.requestTimeoutMs;
    this.logOut(reg, coapReq.method, typeof coapReq.path === 'string' ? coapReq.path : `/${coapReq.path.join('/')}`);
    try {
      if (req.kind === 'observe' || req.kind === 'observe-composite') return await this.observations.start(t, reg, req, coapReq);
      const res = await t.request(reg.address, coapReq);
      return fromCoapResponse(req, reg, res, this.binding);
    } catch (e) {
      throw mapTransportError(e, reg.endpoint);
    }
  }

  private logOut(reg: Registration, method: string, path: string): void {
    if (this.listenerCount('message') === 0) return;
    this.emit('message', { direction: 'out', listener: reg.listener, peerKey: reg.peerKey, endpoint: reg.endpoint, type: 'CON', code: method, token: '', path, size: 0 });
  }

  private onUnmatchedNotification(listener: string, res: ClientResponse, peerKey: string): boolean {
    // A restored observation is accepted from its device's current address only.
    return this.observations.matchUnmatched(res, this.peers.get(listener)?.get(peerKey));
  }

  /** RFC 7641 §3.6 cancel: `active` sends Observe=1 with the same token, `passive` forgets it. */
  async cancelObservation(endpoint: string, observationId: string, mode: 'active' | 'passive' = 'active'): Promise<DeviceResponse> {
    try {
      return await this.observations.cancel(endpoint, observationId, mode, (reg, req) =>
        this.transportOf(reg).request(reg.address, { ...req, timeoutMs: this.config.requestTimeoutMs }),
      );
    } catch (e) {
      throw mapTransportError(e, endpoint);
    }
  }
}

/** Builds a server, filling every collaborator not given (stores, codecs, model, scheduler, random, logger). */
export function createLwm2mServer(opts: Lwm2mServerOptions = {}): Lwm2mServer {
  return new Lwm2mServer(opts);
}

function mapTransportError(e: unknown, endpoint: string): unknown {
  if (!isM2MError(e)) return e;
  if (e.code === 'M2M_COAP_TIMEOUT') return ServerErrors.deviceTimeout(endpoint, { cause: e });
  if (e.code === 'M2M_COAP_RESET') return ServerErrors.deviceReset(endpoint, { cause: e });
  return e;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Runs deferred event publications in one setImmediate per batch (after the replies went out). */
function batchedImmediate(): (fn: () => void) => void {
  let queue: (() => void)[] = [];
  const run = () => {
    const q = queue;
    queue = [];
    for (const fn of q) fn();
  };
  return (fn) => {
    if (queue.push(fn) === 1) setImmediate(run);
  };
}

function decodeUtf8(b: Uint8Array): string {
  try {
    return UTF8.decode(b);
  } catch {
    throw ServerErrors.badRegistration('link payload is not UTF-8');
  }
}

function errorResponse(e: unknown, log: Logger): OutgoingResponse {
  if (isM2MError(e) && e.wire.coap) {
    // RFC 7252 §5.5.2: a diagnostic payload in the error response (never secrets).
    return { code: e.wire.coap, payload: new TextEncoder().encode(e.message.slice(0, 128)) };
  }
  log.error({ err: e }, 'lwm2m request handler failed');
  return { code: '5.00' };
}
