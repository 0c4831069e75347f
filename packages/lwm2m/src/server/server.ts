import type { ClientResponse, CoapMessage, EndpointHooks, IncomingRequest, OutgoingResponse } from '@m2mhub/coap';
import {
  type Datagram,
  type Logger,
  type M2MError,
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
import { type NotificationEvent, Observations } from './observations';
import { type DeregisterReason, RegistrationInterface } from './registration-interface';
import { QueueMode } from './queue-mode';
import { DEFAULT_REGISTER_LIMITS, type RegisterLimits, } from './register-params';
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


/** One line of the per-endpoint CoAP message log (inbound datagrams, outbound device requests). */
export interface CoapLogEvent {
  direction: 'in' | 'out';
  listener: string;
  peerKey: string;
  /** Set on outbound requests and on inbound datagrams of queue-mode devices. */
  endpoint?: string;
  /** The registration at that peer, when there is one. */
  registrationId?: string;
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
  private readonly observations: Observations;
  private readonly queue: QueueMode;
  private readonly rd: RegistrationInterface;
  private readonly binding: BindingContext;

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
    this.rd = new RegistrationInterface(this.registrations, this.config, this.scheduler, this.random, (l) => this.transports.get(l)?.kind, this.defer, {
      registered: (reg, replaced) => {
        if (replaced) this.ended(replaced, 'replaced');
        this.emit('registered', { registration: reg });
        if (reg.queueMode) this.queue.wake(reg.endpoint, reg.id);
      },
      updated: (reg, previous) => {
        this.observations.refresh(reg);
        this.emit('updated', { registration: reg, previous });
        if (reg.queueMode) this.queue.wake(reg.endpoint, reg.id);
      },
      ended: (reg, reason) => this.ended(reg, reason),
    });
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
  }

  /**
   * Restores the state kept in the stores (after a restart): lifetimes, peer addresses,
   * observations (matched through `hooks().onUnmatchedNotification`) and queued requests.
   */
  async start(): Promise<void> {
    await this.rd.restore();
    await this.observations.restore();
    await this.queue.restore();
  }

  async close(): Promise<void> {
    this.rd.close();
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
        if (second === undefined) return req.method === 'POST' ? await this.rd.register(listener, req) : { code: '4.05' };
        if (req.method === 'POST') return await this.rd.update(listener, second, req);
        if (req.method === 'DELETE') return await this.rd.deregister(second, req);
        return { code: '4.05' };
      }
      if (first === 'dp' && second === undefined) return req.method === 'POST' ? await this.onSend(listener, req) : { code: '4.05' };
      return { code: '4.04' };
    } catch (e) {
      return errorResponse(e, this.log);
    }
  }

  // LwM2M Core §6.4.3 Send (1.1+): POST /dp from a registered device.
  private async onSend(listener: string, req: IncomingRequest): Promise<OutgoingResponse> {
    const id = this.rd.registrationIdAt(listener, req.peerKey);
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

  /** Ends a registration's side state and publishes `deregistered`. */
  private ended(reg: Registration, reason: DeregisterReason): void {
    if (reason !== 'replaced') this.queue.forget(reg.endpoint);
    void this.observations.dropRegistration(reg.id).catch((e) => this.log.warn({ err: e }, 'observation store'));
    if (reason !== 'replaced') void this.queue.failAll(reg.endpoint, ServerErrors.deregistered(`${reg.endpoint}: ${reason}`));
    this.emit('deregistered', { registration: reg, reason });
  }

  /** Removes a registration on the server's initiative (event reason `kicked`). */
  deregister(endpoint: string): Promise<boolean> {
    return this.rd.kick(endpoint);
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
    const id = this.rd.registrationIdAt(listener, d.peerKey);
    if (this.listenerCount('message') > 0) {
      const ev: CoapLogEvent = { direction: 'in', listener, peerKey: d.peerKey, type: msg.type, code: msg.code, messageId: msg.messageId, token: toHex(msg.token), size: d.data.length };
      if (id !== undefined) {
        ev.registrationId = id;
        const ep = this.rd.queueEndpointOf(id);
        if (ep !== undefined) ev.endpoint = ep;
      }
      this.emit('message', ev);
    }
    if (id === undefined) return;
    const ep = this.rd.queueEndpointOf(id);
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
    this.emit('message', {
      direction: 'out',
      listener: reg.listener,
      peerKey: reg.peerKey,
      endpoint: reg.endpoint,
      registrationId: reg.id,
      type: 'CON',
      code: method,
      token: '',
      path,
      size: 0,
    });
  }

  private onUnmatchedNotification(listener: string, res: ClientResponse, peerKey: string): boolean {
    // A restored observation is accepted from its device's current address only.
    return this.observations.matchUnmatched(res, this.rd.registrationIdAt(listener, peerKey));
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

function errorResponse(e: unknown, log: Logger): OutgoingResponse {
  if (isM2MError(e) && e.wire.coap) {
    // RFC 7252 §5.5.2: a diagnostic payload in the error response (never secrets).
    return { code: e.wire.coap, payload: new TextEncoder().encode(e.message.slice(0, 128)) };
  }
  log.error({ err: e }, 'lwm2m request handler failed');
  return { code: '5.00' };
}
