/**
 * The gateway's behaviour, independent of sockets and of the LwM2M server object: it takes
 * LwM2M events (register, update, deregister, sleeping, awake, notification, send) and MQTT
 * commands, and publishes the EMQX-shaped messages (DESIGN.md §3). Device requests go out
 * through a `DeviceExecutor` port (the LwM2M server, adapted in `server-adapter.ts`).
 *
 * Per device: at most `max_inflight` commands run at once; more wait in a bounded durable
 * queue (`max_queue_length`, `queue_ttl`), as do all commands for a sleeping queue-mode device.
 */
import type { Logger, Scheduler, TimerHandle } from '@m2mhub/core';
import type { BrokerClient, GatewayEvent, GatewayMessage, Unsubscribe } from '@m2mhub/gateway';
import { topicSafe } from '@m2mhub/gateway';
import type { DeviceRequest, DeviceResponse, ModelProvider, ResourceValue } from '@m2mhub/lwm2m';
import type { DurableQueue, KeyValueStore } from '@m2mhub/store';
import { autoObservePaths } from './auto-observe';
import type { ClusterPort } from './cluster';
import { CommandError, type ParsedCommand, parseCommand } from './command';
import type { Lwm2mGatewayConfig } from './config';
import { Dedupe } from './dedupe';
import { type JsonObject, makeCommandEcho, makeReply } from './reply';
import { Lwm2mTopics, type UplinkKind } from './topics';
import { observationKey, replyFromResponse, type TranslateContext, toDeviceRequest } from './translate';
import { toContent } from './values';

/** Why a device request failed without a CoAP answer. */
export type ExecFailure = 'timeout' | 'reset' | 'not_registered' | 'invalid' | 'queue_full' | 'expired' | 'other';

export interface DeviceExecutor {
  /** Sends one request to a registered device and resolves its answer; rejects on failure (see `classify`). */
  send(ep: string, req: DeviceRequest, opts: { timeoutMs: number }): Promise<DeviceResponse>;
  /** Maps a rejection of `send` to a failure kind. */
  classify(err: unknown): ExecFailure;
}

/** What the gateway needs to know about a registration. */
export interface RegistrationInfo {
  ep: string;
  /**
   * The registration's parameters as EMQX publishes them (`ep`, `lt`, `lwm2m`, `b`, ...),
   * secrets already removed.
   */
  params: JsonObject;
  /** Object links without attributes ("/3/0"), relative to the alternate path; absent on an Update without payload. */
  objectList?: string[];
  alternatePath?: string;
  versions?: Map<number, string>;
  queueMode: boolean;
  address: string;
  port: number;
  transport: string;
  lwm2mVersion: string;
  lifetime: number;
  binding: string;
  identity?: string;
}

export type LifecycleEvent = 'deregister' | 'expired' | 'replaced' | 'kicked' | 'sleeping' | 'awake';

interface QueuedCommand {
  payload: string;
  /** Wall-clock ms. */
  at: number;
  exp: number;
  auto?: boolean;
}

interface Observation {
  id: string;
  key: string;
  raw: JsonObject;
  reqPath: string;
  seq: number;
}

interface Session {
  ep: string;
  info: RegistrationInfo;
  regData: JsonObject;
  objectList: string[];
  awake: boolean;
  inflight: number;
  /** Items in the durable queue (mirrors the store; avoids a store read per command). */
  queued: number;
  pumping: boolean;
  sweep: TimerHandle | undefined;
  observations: Map<string, Observation>;
  byObsId: Map<string, Observation>;
  /** Commands sent to the device and not answered yet, oldest first, with whether an Empty ACK came. */
  running: { raw: JsonObject; acked: boolean }[];
  /**
   * The last reply per (msgType, reqPath), for the API's `lookup` (EMQX keeps 100), as the
   * JSON text published: one string per device outlives its command instead of an object
   * graph (each was promoted to the old generation and traced by every major GC).
   */
  results: Map<string, string>;
  connectedAt: number;
  messagesIn: number;
  messagesOut: number;
}

export interface CoreStats {
  clients: number;
  messages_in: number;
  messages_out: number;
  commands: number;
  command_errors: number;
  queued: number;
  queue_full: number;
  expired: number;
  timeouts: number;
  duplicates: number;
  internal_errors: number;
  /** Commands left to the node that owns the device (cluster). */
  other_node: number;
  /** Sessions dropped because the device registered again on another node (cluster). */
  moved: number;
  [key: string]: number;
}

export interface CoreDeps {
  config: Lwm2mGatewayConfig;
  broker: BrokerClient;
  executor: DeviceExecutor;
  model: ModelProvider;
  queue: DurableQueue<QueuedCommand>;
  /** Where the command behind each observation is kept, so notifications after a restart are still published with it. */
  observationKv?: KeyValueStore;
  scheduler: Scheduler;
  logger: Logger;
  onEvent?: (e: GatewayEvent) => void;
  /**
   * Present when other nodes share the store and the broker (docs/mqtt-api.md "Cluster"):
   * a command is executed only by the node owning the device's session, and exactly one
   * node answers when no live node owns it.
   */
  cluster?: ClusterPort;
  /** Called when a session turns out to be owned by another node now (drop cached state). */
  onMoved?: (ep: string) => void;
}

/** Who answers a command: this node's session, an error reply, or (undefined) another node. */
type Route = Session | { code: string; error: string } | undefined;

export class Lwm2mGatewayCore {
  private readonly cfg: Lwm2mGatewayConfig;
  readonly topics: Lwm2mTopics;
  private readonly sessions = new Map<string, Session>();
  /** "address:port" of each device -> endpoint (to attribute an Empty ACK). */
  private readonly byAddress = new Map<string, string>();
  /** topic-safe endpoint -> endpoint */
  private readonly byTopicKey = new Map<string, string>();
  private readonly dedupe: Dedupe;
  /** Endpoints with observation contexts in the store (read once at start). */
  private readonly observedEndpoints = new Set<string>();
  private unsubscribe: Unsubscribe | undefined;
  readonly stats: CoreStats = {
    clients: 0,
    messages_in: 0,
    messages_out: 0,
    commands: 0,
    command_errors: 0,
    queued: 0,
    queue_full: 0,
    expired: 0,
    timeouts: 0,
    duplicates: 0,
    internal_errors: 0,
    other_node: 0,
    moved: 0,
  };

  constructor(private readonly deps: CoreDeps) {
    this.cfg = deps.config;
    this.topics = new Lwm2mTopics(this.cfg);
    this.dedupe = new Dedupe(this.cfg.dedupe_window, this.cfg.dedupe_interval * 1000);
  }

  /** Subscribes the command filter (one wildcard filter for every device). */
  async start(): Promise<void> {
    // One subscription only: a second matching one would deliver each command twice.
    if (this.unsubscribe) return;
    await this.indexObservations();
    const { topic, qos } = this.topics.commandWildcard();
    if (!this.topics.commandFilterIsPerDevice()) {
      this.deps.logger.warn({ topic }, 'lwm2m command topic has no endpoint placeholder: every device receives every command (as EMQX)');
    }
    this.unsubscribe = await this.deps.broker.subscribe(topic, (m) => this.onMqtt(m), { qos });
  }

  private indexed: Promise<void> | undefined;
  private indexObservations(): Promise<void> {
    this.indexed ??= this.scanObservations();
    return this.indexed;
  }

  private async scanObservations(): Promise<void> {
    const kv = this.deps.observationKv;
    if (!kv) return;
    let after: string | undefined;
    for (;;) {
      const page = await kv.list({ prefix: 'o/', limit: 1000, ...(after ? { after } : {}) });
      for (const e of page) this.observedEndpoints.add(decodeURIComponent(e.key.split('/')[1] ?? ''));
      if (page.length < 1000) return;
      after = page[page.length - 1]!.key;
    }
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const s of this.sessions.values()) s.sweep?.cancel();
    this.sessions.clear();
    this.byTopicKey.clear();
    this.stats.clients = 0;
  }

  /**
   * Runs a background task: an unexpected error is logged, never left as an unhandled
   * rejection (which would stop the process). Bad input never gets here: it is answered.
   */
  guard(p: Promise<unknown>): void {
    p.catch((err: unknown) => {
      this.stats.internal_errors++;
      this.deps.logger.error({ err }, 'lwm2m gateway task failed');
    });
  }

  // ---------------------------------------------------------------- uplink publishing

  private async publish(kind: UplinkKind, ep: string, msg: JsonObject): Promise<void> {
    const { topic, qos } = this.topics.uplink(kind, ep);
    this.stats.messages_out++;
    const text = JSON.stringify(msg);
    const s = this.sessions.get(ep);
    if (s) {
      s.messagesOut++;
      if (kind === 'response' || kind === 'notify') this.record(s, msg, text);
    }
    try {
      await this.deps.broker.publish(topic, text, { qos });
    } catch (err) {
      this.deps.logger.warn({ err, topic }, 'publish failed');
    }
  }

  private emit(type: string, ep: string, data?: Record<string, unknown>): void {
    if (!this.deps.onEvent) return;
    const e: GatewayEvent = { gateway: 'lwm2m', type, clientId: ep, at: this.deps.scheduler.wallNow() };
    if (data) e.data = data;
    this.deps.onEvent(e);
  }

  // ---------------------------------------------------------------- LwM2M events

  /** A Register (LwM2M Core §6.2.1). `restored`: a registration reloaded after a restart (nothing is published). */
  async registered(info: RegistrationInfo, opts: { restored?: boolean } = {}): Promise<void> {
    const old = this.sessions.get(info.ep);
    if (old) this.dropSession(old);
    const data = regData(info);
    const objectList = info.objectList ?? [];
    const s: Session = {
      ep: info.ep,
      info,
      regData: data,
      objectList,
      awake: true,
      inflight: 0,
      queued: 0,
      pumping: false,
      sweep: undefined,
      observations: new Map(),
      byObsId: new Map(),
      running: [],
      results: new Map(),
      connectedAt: this.deps.scheduler.wallNow(),
      messagesIn: 0,
      messagesOut: 0,
    };
    this.sessions.set(info.ep, s);
    this.byTopicKey.set(topicSafe(info.ep), info.ep);
    this.byAddress.set(`${info.address}:${info.port}`, info.ep);
    this.stats.clients = this.sessions.size;
    // The session exists before any await, so a command arriving meanwhile finds it.
    s.queued = await this.deps.queue.length(info.ep);
    if (opts.restored) {
      s.awake = !info.queueMode;
      await this.indexObservations();
      await this.loadObservations(s);
      return;
    }
    // A new registration starts without observations (the server dropped the old ones).
    await this.indexObservations();
    await this.forgetObservations(info.ep);
    this.emit('register', info.ep, { transport: info.transport });
    await this.publish('register', info.ep, { msgType: 'register', data, ep: info.ep });
    // EMQX: auto-observe goes out after the registration has been reported.
    for (const path of autoObservePaths(this.cfg.auto_observe, objectList, this.deps.model)) {
      const payload = JSON.stringify({ msgType: 'observe', data: { path }, is_auto_observe: true });
      await this.submit(s, payload, { auto: true });
    }
    this.guard(this.pump(s));
  }

  /** An Update (LwM2M Core §6.2.2): also a wake-up for a queue-mode device. */
  async updated(info: RegistrationInfo): Promise<void> {
    const s = this.sessions.get(info.ep);
    if (!s) return this.registered(info);
    const hasObjects = info.objectList !== undefined;
    s.regData = { ...s.regData, ...regData(info) };
    if (info.objectList !== undefined) s.objectList = info.objectList;
    this.byAddress.delete(`${s.info.address}:${s.info.port}`);
    this.byAddress.set(`${info.address}:${info.port}`, info.ep);
    s.info = info;
    this.emit('update', info.ep);
    if (this.cfg.update_msg_publish_condition === 'always' || hasObjects) {
      await this.publish('update', info.ep, { msgType: 'update', data: s.regData, ep: info.ep });
    }
    this.wake(s);
  }

  /** Deregister, expiry, replacement by a new registration, or a kick (published on up/event). */
  async deregistered(ep: string, reason: 'deregister' | 'expired' | 'replaced' | 'kicked'): Promise<void> {
    const s = this.sessions.get(ep);
    if (reason === 'replaced') {
      // The new registration follows; keep queued commands for it.
      await this.publish('event', ep, { msgType: reason, data: { reason }, ep });
      return;
    }
    if (s) this.dropSession(s);
    await this.forgetObservations(ep);
    this.emit(reason, ep);
    await this.publish('event', ep, { msgType: reason, data: { reason }, ep });
    // Commands still queued can no longer reach the device: each gets an answer.
    const items = await this.deps.queue.drain(ep);
    for (const it of items) {
      await this.replyError(ep, safeParse(it.payload), '4.04', `endpoint ${ep} is no longer registered (${reason})`);
    }
  }

  /** LwM2M Core §6.5: a queue-mode device went to sleep / woke up. */
  async sleeping(ep: string): Promise<void> {
    const s = this.sessions.get(ep);
    if (!s) return;
    s.awake = false;
    this.emit('sleeping', ep);
    await this.publish('event', ep, { msgType: 'sleeping', data: {}, ep });
  }

  async awake(ep: string): Promise<void> {
    const s = this.sessions.get(ep);
    if (!s) return;
    const was = s.awake;
    this.wake(s);
    if (!was) {
      this.emit('awake', ep);
      await this.publish('event', ep, { msgType: 'awake', data: {}, ep });
    }
  }

  /** RFC 7641 notification of an observation this gateway started. */
  async notification(ep: string, observationId: string, res: DeviceResponse, seq?: number): Promise<void> {
    const s = this.sessions.get(ep);
    const obs = s?.byObsId.get(observationId);
    if (!s || !obs) return;
    s.messagesIn++;
    this.stats.messages_in++;
    obs.seq = seq ?? obs.seq + 1;
    const content = res.content ? toContent(res.content, this.deps.model, s.info.versions) : undefined;
    const reply = makeReply(ep, 'notify', obs.raw, obs.reqPath, res.code, content ? { content: content as unknown as JsonObject[] } : {});
    reply.seqNum = obs.seq;
    await this.publish('notify', ep, reply);
  }

  /**
   * RFC 7252 §5.2.2: the device acknowledged a request with an Empty ACK, its response comes
   * later. Published as EMQX's `ack` (the command with msgType "ack") for the oldest command
   * of that device not acknowledged yet.
   */
  emptyAck(peer: { address: string; port: number }): void {
    const ep = this.byAddress.get(`${peer.address}:${peer.port}`);
    const s = ep === undefined ? undefined : this.sessions.get(ep);
    const entry = s?.running.find((r) => !r.acked);
    if (!s || !entry) return;
    entry.acked = true;
    this.guard(this.publish('response', s.ep, makeCommandEcho(s.ep, 'ack', entry.raw)));
  }

  /** An observation ended on the device side (RST, error code): forget it. */
  observationEnded(ep: string, observationId: string): void {
    const s = this.sessions.get(ep);
    const obs = s?.byObsId.get(observationId);
    if (!s || !obs) return;
    this.removeObservation(s, obs);
  }

  /** LwM2M 1.1 Send (Core §6.4.3), published on up/send. */
  async send(ep: string, values: ResourceValue[]): Promise<void> {
    const s = this.sessions.get(ep);
    if (s) s.messagesIn++;
    this.stats.messages_in++;
    const content = toContent(values, this.deps.model, s?.info.versions);
    await this.publish('send', ep, { msgType: 'send', data: { reqPath: '/dp', content: content as unknown as JsonObject[] }, ep });
  }

  // ---------------------------------------------------------------- commands

  private onMqtt(m: GatewayMessage): void {
    const key = this.dedupe.first(m, this.deps.scheduler.wallNow());
    if (key === undefined) {
      this.stats.duplicates++;
      return;
    }
    this.stats.messages_in++;
    const target = this.topics.endpointOf(m.topic);
    if (target === undefined) return;
    if (target === 'shared') {
      // EMQX's shared command topic: each node runs it for the devices it holds, nobody answers 4.04.
      for (const s of this.sessions.values()) this.guard(this.command(s.ep, m.payload));
      return;
    }
    const ep = this.byTopicKey.get(target.ep) ?? target.ep;
    this.guard(this.command(ep, m.payload, key));
  }

  /**
   * Handles one command payload for `ep` (also used by the API's shortcuts). `claimKey`
   * names the MQTT message: in a cluster, the nodes race for it when none of them can
   * execute the command, so exactly one answers (without it, this node answers).
   */
  async command(ep: string, payload: string | Uint8Array, claimKey?: string): Promise<void> {
    this.stats.commands++;
    const route = this.deps.cluster ? await this.routeOrLocal(ep, claimKey) : (this.sessions.get(ep) ?? { code: '4.04', error: `endpoint ${ep} is not registered` });
    if (route === undefined) {
      this.stats.other_node++;
      return;
    }
    let parsed: ParsedCommand;
    try {
      parsed = parseCommand(typeof payload === 'string' ? new TextEncoder().encode(payload) : payload, { maxSize: this.cfg.max_command_size });
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      this.stats.command_errors++;
      // An unknown endpoint wins over a bad command.
      const [code, error] = 'ep' in route ? ['4.00', e.message] : [route.code, route.error];
      await this.publish('response', ep, makeReply(ep, e.msgType, e.raw, e.reqPath, code, { error }));
      return;
    }
    if (!('ep' in route)) {
      this.stats.command_errors++;
      await this.replyError(ep, parsed.raw, route.code, route.error, parsed);
      return;
    }
    route.messagesIn++;
    // The text is needed only if the command waits in the durable queue.
    await this.submit(route, typeof payload === 'string' ? payload : () => utf8(payload), {}, parsed);
  }

  /**
   * A command from this node's API for a device another live node holds (cluster): published on
   * the device's command topic, so the owner runs it like any MQTT command. False when no live
   * node holds `ep` or its command topic cannot be built.
   */
  async forward(ep: string, payload: string): Promise<boolean> {
    const cluster = this.deps.cluster;
    const topic = this.topics.commandTopic(ep);
    if (!cluster || topic === undefined) return false;
    const owner = await cluster.ownerOf(ep);
    if (owner === undefined || owner === cluster.nodeId || !(await cluster.alive(owner))) return false;
    await this.deps.broker.publish(topic, payload, { qos: this.cfg.translators.command.qos });
    return true;
  }

  /**
   * `route`, falling back to this node's own sessions when the shared store cannot be reached:
   * the node holding the device's session still runs its commands; the others stay silent
   * rather than each answering an error for a device one of them holds.
   */
  private async routeOrLocal(ep: string, claimKey: string | undefined): Promise<Route | undefined> {
    try {
      return await this.route(ep, claimKey);
    } catch (err) {
      this.deps.logger.warn({ err, ep }, 'cluster store unreachable: routing the command by local sessions');
      return this.sessions.get(ep);
    }
  }

  /**
   * Which node answers a command for `ep` (docs/mqtt-api.md "Cluster"). One node: this one,
   * with the session or a 4.04. A cluster: the owner recorded with the registration runs it;
   * a session whose registration another node now owns (the device registered again there)
   * is dropped here; when nobody owns it (4.04) or its owner is gone (5.03), the node that
   * wins the message's claim answers and the others stay silent.
   */
  private async route(ep: string, claimKey: string | undefined): Promise<Route> {
    const s = this.sessions.get(ep);
    const cluster = this.deps.cluster;
    if (!cluster) return s ?? { code: '4.04', error: `endpoint ${ep} is not registered` };
    const owner = await cluster.ownerOf(ep);
    if (owner === cluster.nodeId) return s ?? { code: '4.04', error: `endpoint ${ep} is not registered (its registration is not complete yet)` };
    if (s) {
      if (owner === undefined) return s; // deregistered meanwhile: the device request says so (4.04)
      this.stats.moved++;
      this.dropSession(s);
      this.deps.onMoved?.(ep);
    }
    if (owner !== undefined && (await cluster.alive(owner))) return undefined;
    if (claimKey !== undefined && !(await cluster.claim(`${ep} ${claimKey}`))) return undefined;
    if (owner === undefined) return { code: '4.04', error: `endpoint ${ep} is not registered` };
    return {
      code: '5.03',
      error: `endpoint ${ep} is registered on node ${owner}, which is gone (no heartbeat for ${this.cfg.cluster_node_timeout} s); the device has to register again`,
    };
  }

  /** Runs now, or queues when the device sleeps or is busy. */
  private async submit(s: Session, text: string | (() => string), opts: { auto?: boolean }, parsed?: ParsedCommand): Promise<void> {
    const sleeping = s.info.queueMode && !s.awake;
    if (parsed && !sleeping && s.inflight < this.cfg.max_inflight && s.queued === 0) {
      this.guard(this.run(s, '', parsed));
      return;
    }
    const payload = typeof text === 'string' ? text : text();
    if (!sleeping && s.inflight < this.cfg.max_inflight && s.queued === 0) {
      this.guard(this.run(s, payload, parsed));
      return;
    }
    const now = this.deps.scheduler.wallNow();
    const item: QueuedCommand = { payload, at: now, exp: now + this.cfg.queue_ttl * 1000 };
    if (opts.auto) item.auto = true;
    try {
      if (this.cfg.max_queue_length === 0) throw new Error('queue disabled');
      await this.deps.queue.push(s.ep, item, { maxLength: this.cfg.max_queue_length });
      s.queued++;
      this.stats.queued++;
      this.armSweep(s);
      if (sleeping) await this.ackQueued(s, payload);
    } catch {
      this.stats.queue_full++;
      const raw = parsed?.raw ?? safeParse(payload);
      await this.replyError(
        s.ep,
        raw,
        '5.03',
        `command queue of ${s.ep} is full (${this.cfg.max_queue_length} commands)`,
        parsed,
      );
    }
  }

  /** A queued command for a sleeping device is acknowledged at once with its state. */
  private async ackQueued(s: Session, payload: string): Promise<void> {
    const raw = safeParse(payload);
    if (!raw) return;
    const msg = makeCommandEcho(s.ep, 'ack', raw);
    msg.queued = true;
    await this.publish('response', s.ep, msg);
  }

  private wake(s: Session): void {
    s.awake = true;
    this.guard(this.pump(s));
  }

  /** Sends queued commands while the device can take them. */
  private async pump(s: Session): Promise<void> {
    if (s.pumping) return;
    s.pumping = true;
    try {
      while (s.queued > 0 && s.inflight < this.cfg.max_inflight && (s.awake || !s.info.queueMode) && this.sessions.get(s.ep) === s) {
        const item = await this.deps.queue.shift(s.ep);
        if (!item) {
          s.queued = 0;
          break;
        }
        s.queued--;
        if (item.exp <= this.deps.scheduler.wallNow()) {
          await this.expire(s.ep, item);
          continue;
        }
        this.guard(this.run(s, item.payload));
      }
    } finally {
      s.pumping = false;
    }
  }

  private async expire(ep: string, item: QueuedCommand): Promise<void> {
    this.stats.expired++;
    await this.replyError(ep, safeParse(item.payload), '5.04', `command expired after ${this.cfg.queue_ttl} s in the queue of a sleeping device`);
  }

  /** Answers expired commands at the head of a sleeping device's queue when they expire. */
  private armSweep(s: Session, delayMs = this.cfg.queue_ttl * 1000 + 1): void {
    if (s.sweep) return;
    s.sweep = this.deps.scheduler.setTimeout(() => {
      s.sweep = undefined;
      this.guard(this.sweepExpired(s));
    }, delayMs);
  }

  private async sweepExpired(s: Session): Promise<void> {
    if (this.sessions.get(s.ep) !== s) return;
    for (;;) {
      const head = await this.deps.queue.peek(s.ep);
      if (!head) return;
      const wait = head.exp - this.deps.scheduler.wallNow();
      if (wait > 0) return this.armSweep(s, wait + 1);
      await this.deps.queue.shift(s.ep);
      s.queued = Math.max(0, s.queued - 1);
      await this.expire(s.ep, head);
    }
  }

  private translateContext(s: Session): TranslateContext {
    const ctx: TranslateContext = { model: this.deps.model, observationOf: (key) => s.observations.get(key)?.id };
    if (s.info.versions) ctx.versions = s.info.versions;
    return ctx;
  }

  /** Executes one command against the device and publishes its reply. */
  private async run(s: Session, payload: string, pre?: ParsedCommand): Promise<void> {
    s.inflight++;
    try {
      let parsed: ParsedCommand;
      try {
        parsed = pre ?? parseCommand(new TextEncoder().encode(payload), { maxSize: this.cfg.max_command_size });
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        await this.publish('response', s.ep, makeReply(s.ep, e.msgType, e.raw, e.reqPath, '4.00', { error: e.message }));
        return;
      }
      const ctx = this.translateContext(s);
      let req: DeviceRequest;
      try {
        req = toDeviceRequest(parsed.cmd, ctx);
      } catch (e) {
        // Everything toDeviceRequest refuses comes from the command (a value, a path, an unknown observation).
        this.stats.command_errors++;
        const code = parsed.cmd.msgType.startsWith('cancel-observe') ? '4.04' : '4.00';
        await this.replyError(s.ep, parsed.raw, code, (e as Error).message, parsed);
        return;
      }
      let res: DeviceResponse;
      const entry = { raw: parsed.raw, acked: false };
      s.running.push(entry);
      try {
        res = await this.deps.executor.send(s.ep, req, { timeoutMs: this.cfg.request_timeout * 1000 });
      } catch (err) {
        await this.failed(s, parsed, err);
        return;
      } finally {
        s.running.splice(s.running.indexOf(entry), 1);
      }
      s.messagesIn++;
      this.afterResponse(s, parsed, res);
      let reply: JsonObject;
      try {
        reply = replyFromResponse(s.ep, parsed, res, ctx);
      } catch (err) {
        // A device answer we cannot shape is still answered, never dropped.
        this.deps.logger.warn({ err, ep: s.ep }, 'reply shaping failed');
        reply = makeReply(s.ep, parsed.cmd.msgType, parsed.raw, parsed.cmd.path, '5.00', { error: (err as Error).message });
      }
      await this.publish('response', s.ep, reply);
    } finally {
      s.inflight--;
      if (s.queued > 0) this.guard(this.pump(s));
    }
  }

  private afterResponse(s: Session, parsed: ParsedCommand, res: DeviceResponse): void {
    const cmd = parsed.cmd;
    if ((cmd.msgType === 'observe' || cmd.msgType === 'observe-composite') && res.ok && res.observationId) {
      const key = 'paths' in cmd ? observationKey(cmd.paths) : cmd.path;
      const prev = s.observations.get(key);
      if (prev) this.removeObservation(s, prev);
      const obs: Observation = { id: res.observationId, key, raw: parsed.raw, reqPath: cmd.path, seq: 0 };
      s.observations.set(key, obs);
      s.byObsId.set(obs.id, obs);
      this.observedEndpoints.add(s.ep);
      void this.deps.observationKv?.put(obsKey(s.ep, obs.id), { key, raw: obs.raw, reqPath: obs.reqPath }).catch((err) => this.deps.logger.warn({ err }, 'observation store'));
    }
    if (cmd.msgType === 'cancel-observe' || cmd.msgType === 'cancel-observe-composite') {
      const key = 'paths' in cmd ? observationKey(cmd.paths) : cmd.path;
      const obs = s.observations.get(key);
      if (obs) this.removeObservation(s, obs);
    }
  }

  private removeObservation(s: Session, obs: Observation): void {
    s.observations.delete(obs.key);
    s.byObsId.delete(obs.id);
    void this.deps.observationKv?.delete(obsKey(s.ep, obs.id)).catch(() => undefined);
  }

  private async loadObservations(s: Session): Promise<void> {
    const kv = this.deps.observationKv;
    if (!kv || !this.observedEndpoints.has(s.ep)) return;
    const prefix = obsKey(s.ep, '');
    for (const e of await kv.list<{ key: string; raw: JsonObject; reqPath: string }>({ prefix })) {
      const obs: Observation = { id: e.key.slice(prefix.length), key: e.value.key, raw: e.value.raw, reqPath: e.value.reqPath, seq: 0 };
      s.observations.set(obs.key, obs);
      s.byObsId.set(obs.id, obs);
    }
  }

  private async forgetObservations(ep: string): Promise<void> {
    const kv = this.deps.observationKv;
    // Only endpoints known to have stored observations cost a store scan.
    if (!kv || !this.observedEndpoints.has(ep)) return;
    this.observedEndpoints.delete(ep);
    const old = await kv.list({ prefix: obsKey(ep, '') });
    if (old.length > 0) await kv.batch(old.map((e) => ({ type: 'del' as const, key: e.key })));
  }

  private async failed(s: Session, parsed: ParsedCommand, err: unknown): Promise<void> {
    const kind = this.deps.executor.classify(err);
    const message = err instanceof Error ? err.message : String(err);
    switch (kind) {
      case 'timeout':
        this.stats.timeouts++;
        // EMQX: the command echoed with msgType coap_timeout.
        await this.publish('response', s.ep, makeCommandEcho(s.ep, 'coap_timeout', parsed.raw));
        return;
      case 'reset':
        await this.publish('response', s.ep, makeCommandEcho(s.ep, 'coap_reset', parsed.raw));
        return;
      case 'not_registered':
        await this.replyError(s.ep, parsed.raw, '4.04', message, parsed);
        return;
      case 'invalid':
        await this.replyError(s.ep, parsed.raw, '4.00', message, parsed);
        return;
      case 'queue_full':
        this.stats.queue_full++;
        await this.replyError(s.ep, parsed.raw, '5.03', message, parsed);
        return;
      case 'expired':
        this.stats.expired++;
        await this.replyError(s.ep, parsed.raw, '5.04', message, parsed);
        return;
      default:
        this.deps.logger.warn({ err, ep: s.ep }, 'device request failed');
        await this.replyError(s.ep, parsed.raw, '5.00', message, parsed);
    }
  }

  private async replyError(ep: string, raw: JsonObject | undefined, code: string, error: string, parsed?: ParsedCommand): Promise<void> {
    const msgType = parsed?.cmd.msgType ?? (typeof raw?.msgType === 'string' ? raw.msgType : 'unknown');
    const data = raw?.data as JsonObject | undefined;
    const reqPath = parsed?.cmd.path ?? (typeof data?.path === 'string' ? data.path : typeof data?.basePath === 'string' ? data.basePath : '');
    await this.publish('response', ep, makeReply(ep, msgType, raw, reqPath, code, { error }));
  }

  // ---------------------------------------------------------------- sessions

  private dropSession(s: Session): void {
    s.sweep?.cancel();
    this.sessions.delete(s.ep);
    if (this.byTopicKey.get(topicSafe(s.ep)) === s.ep) this.byTopicKey.delete(topicSafe(s.ep));
    const addr = `${s.info.address}:${s.info.port}`;
    if (this.byAddress.get(addr) === s.ep) this.byAddress.delete(addr);
    this.stats.clients = this.sessions.size;
  }

  private record(s: Session, msg: JsonObject, text: string): void {
    if (this.cfg.max_recorded_results === 0) return;
    const data = msg.data as JsonObject | undefined;
    if (!data || typeof data.reqPath !== 'string' || typeof msg.msgType !== 'string') return;
    const key = `${msg.msgType} ${data.reqPath}`;
    s.results.delete(key);
    s.results.set(key, text);
    if (s.results.size > this.cfg.max_recorded_results) s.results.delete(s.results.keys().next().value as string);
  }

  /** The last reply to `msgType` on `path` for `ep` (EMQX's lookup), if any. */
  lastResult(ep: string, msgType: string, path: string): JsonObject | undefined {
    const text = this.sessions.get(ep)?.results.get(`${msgType} ${path}`);
    return text === undefined ? undefined : (JSON.parse(text) as JsonObject);
  }

  has(ep: string): boolean {
    return this.sessions.has(ep);
  }

  /** Client details for the API (EMQX's client fields plus LwM2M ones). */
  clientInfo(ep: string): Record<string, unknown> | undefined {
    const s = this.sessions.get(ep);
    if (!s) return undefined;
    const i = s.info;
    const out: Record<string, unknown> = {
      clientid: ep,
      endpoint_name: ep,
      username: ep,
      proto_name: 'LwM2M',
      proto_ver: i.lwm2mVersion,
      ip_address: i.address,
      port: i.port,
      connected: true,
      connected_at: new Date(s.connectedAt).toISOString(),
      lifetime: i.lifetime,
      binding: i.binding,
      queue_mode: i.queueMode,
      awake: s.awake,
      transport: i.transport,
      objectList: s.objectList,
      observations: [...s.observations.keys()],
      queued_commands: s.queued,
      inflight: s.inflight,
      recv_msg: s.messagesIn,
      send_msg: s.messagesOut,
    };
    if (i.identity !== undefined) out.identity = i.identity;
    return out;
  }

  endpoints(): string[] {
    return [...this.sessions.keys()].sort();
  }
}

function obsKey(ep: string, id: string): string {
  return `o/${encodeURIComponent(ep)}/${id}`;
}

/** EMQX's register/update `data`: the parameters plus `alternatePath` and `objectList`. */
function regData(info: RegistrationInfo): JsonObject {
  const out: JsonObject = { ...info.params };
  if (info.objectList !== undefined) {
    out.alternatePath = info.alternatePath ?? '/';
    out.objectList = info.objectList;
  }
  return out;
}

function utf8(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

function safeParse(payload: string): JsonObject | undefined {
  try {
    const v = JSON.parse(payload) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}
