/**
 * The LwM2M gateway as a hub plugin (DESIGN.md §2 layer 7, §3): UDP (5783) and DTLS (5784)
 * listeners feeding the LwM2M server, the gateway core translating to JSON over MQTT, and its
 * admin routes (clients, credentials).
 */
import { join } from 'node:path';
import { CoapEndpoint, type IncomingRequest, UdpTransport } from '@m2mhub/coap';
import type { DatagramTransport, Logger, PeerAddress, Scheduler } from '@m2mhub/core';
import { createDtlsTransport, type DtlsLimits, type DtlsTransport } from '@m2mhub/dtls';
import type { ClientQuery, Gateway, GatewayClientInfo, GatewayContext, GatewayFactory, GatewayStats, ListenerStatus } from '@m2mhub/gateway';
import { createLwm2mServer, createObjectRegistry, DEFAULT_SERVER_CONFIG, type Lwm2mServer, type Lwm2mServerConfig, type ModelProvider } from '@m2mhub/lwm2m';
import { ClusterNode } from './cluster';
import { Lwm2mGatewayCore } from './core';
import { OrphanSweeper } from './orphans';
import { PooledRandom } from './pooled-random';
import { CredentialStore, DEFAULT_CREDENTIAL_LIMITS } from './credentials';
import { type DtlsPki, loadDtlsPki } from './dtls-pki';
import { clampLifetime, defaultConfig, dtlsLimits, type Lwm2mGatewayConfig, parseConfig } from './config';
import { KvObservationStore, KvRegistrationStore, KvRequestQueueStore } from './durable-stores';
import { ObjectCatalog } from './objects';
import { gatewayRoutes } from './routes';
import { SecretBox } from './secret-box';
import { RegistrationQueries, restoreSessions, ServerExecutor, wireServer } from './server-adapter';

/** What a DTLS listener needs; the DTLS package's transport is built from it. */
export interface DtlsListenerSpec {
  bind: string;
  port: number;
  credentials: CredentialStore;
  scheduler: Scheduler;
  logger: Logger;
  /** Server certificate/raw key and client trust anchors from `lwm2m.dtls.*file` (empty: PSK only). */
  pki?: DtlsPki;
  /** Issue #4: `lwm2m.dtls.max_handshakes`/`max_sessions`/`handshake_timeout`/`idle_timeout` (unset: the DTLS defaults). */
  limits?: Partial<DtlsLimits>;
}

export interface Lwm2mGatewayOptions {
  /** Builds the DTLS transport (default: @m2mhub/dtls backed by the credential store). */
  dtlsTransport?: (spec: DtlsListenerSpec) => DatagramTransport;
  /** LwM2M server settings beyond the gateway's keys (e.g. `expiryGraceMs` in tests). */
  server?: Partial<Lwm2mServerConfig>;
  /** Largest PEM file read for `dtls.certfile`/`keyfile`/`cacertfile` (default 1 MiB). */
  pkiFileMaxBytes?: number;
}

interface Listener {
  id: string;
  type: 'udp' | 'dtls';
  endpoint: CoapEndpoint;
}

/**
 * DTLS 1.2 listener (DESIGN.md §1 port 5784) whose PSK and RPK lookups read the credential
 * store; the identity found carries its bound endpoint, checked at registration (§6). With a
 * server key (`lwm2m.dtls.keyfile`, plus `certfile` for X.509) the ECDHE_ECDSA suites are
 * offered too: clients may then present a raw public key (RFC 7250, looked up in the store)
 * or, with `cacertfile`, a certificate chained to it (CN = endpoint). Without a server key
 * only the PSK suites are offered.
 */
export function defaultDtlsTransport(spec: DtlsListenerSpec): DtlsTransport {
  const anchors = spec.pki?.trustAnchors;
  return createDtlsTransport({
    bind: spec.bind,
    port: spec.port,
    pskStore: { lookup: (identity) => spec.credentials.lookupPsk(identity) },
    rpkStore: { lookup: (fp) => spec.credentials.lookupRpk(fp) },
    ...(spec.pki?.serverCredentials ? { credentials: spec.pki.serverCredentials } : {}),
    ...(anchors ? { trustStore: { anchors: () => anchors } } : {}),
    ...(spec.limits ? { limits: spec.limits } : {}),
    scheduler: spec.scheduler,
    logger: spec.logger,
  });
}

/**
 * Leshan's rule for X.509 clients (issue #4): a certificate chained to the trust store proves
 * the CN, but the endpoint may register with it only when its credential in the store is
 * `{"x509":{}}`. A Register from a certificate whose CN has no such credential (none, or a PSK
 * or raw key) is refused 4.03. Undefined lets the request through.
 */
export function x509RegisterGuard(credentials: CredentialStore, logger: Logger): (req: IncomingRequest) => Promise<string | undefined> {
  return async (req) => {
    const id = req.identity;
    if (id?.kind !== 'x509') return undefined;
    const cred = await credentials.get(id.endpoint ?? id.id);
    if (cred && 'x509' in cred) return undefined;
    logger.warn({ cn: id.id }, 'certificate client refused: no x509 credential for this endpoint');
    return '4.03';
  };
}

/**
 * Routes a CoAP endpoint to the LwM2M server (server role) and gives the server its client
 * role. Register and Update have their `lt` clamped into [lifetime_min, lifetime_max] first
 * (EMQX's keys; LwM2M Core §6.2.1 leaves the accepted range to the server).
 */
export function attachListener(
  server: Lwm2mServer,
  name: string,
  endpoint: CoapEndpoint,
  lifetimes?: Pick<Lwm2mGatewayConfig, 'lifetime_min' | 'lifetime_max'>,
  queries?: RegistrationQueries,
  onEmptyAck?: (peer: PeerAddress) => void,
  registerGuard?: (req: IncomingRequest) => Promise<string | undefined>,
): void {
  const handle = (req: IncomingRequest) => {
    const r = lifetimes && req.path[0] === 'rd' && req.method === 'POST' ? clampLt(req, lifetimes) : req;
    queries?.see(r);
    return server.handleRequest(name, r);
  };
  endpoint.fallback((req) => {
    // LwM2M Core §6.2.1 Register is POST /rd; a guard may refuse it (a CoAP code) before the server sees it.
    if (!registerGuard || req.method !== 'POST' || req.path.length !== 1 || req.path[0] !== 'rd') return handle(req);
    return registerGuard(req).then((code) => (code ? { code } : handle(req)));
  });
  const hooks = server.hooks(name);
  endpoint.hooks = {
    ...hooks,
    onActivity: (d, msg) => {
      hooks.onActivity?.(d, msg);
      // RFC 7252 §5.2.2: an Empty ACK means the response will come separately (EMQX's `ack`).
      if (onEmptyAck && msg.type === 'ACK' && msg.code === '0.00') onEmptyAck(d.peer);
    },
  };
  const kind = endpoint.transport.kind;
  server.addTransport({
    name,
    kind,
    request: (peer, req) => endpoint.request(peer, req),
    observe: (peer, req, handlers) => endpoint.observe(peer, req, handlers),
  });
}

function clampLt(req: IncomingRequest, lifetimes: Pick<Lwm2mGatewayConfig, 'lifetime_min' | 'lifetime_max'>): IncomingRequest {
  const i = req.query.findIndex((q) => q.startsWith('lt='));
  if (i < 0) {
    // A Register without lt means 86400 s (LwM2M Core §6.2.1), which may be over lifetime_max.
    const def = clampLifetime(undefined, lifetimes);
    return req.path.length === 1 && def !== 86400 ? { ...req, query: [...req.query, `lt=${def}`] } : req;
  }
  const v = req.query[i]!.slice(3);
  if (!/^\d{1,10}$/.test(v)) return req; // the server answers 4.00 to a malformed lt
  const query = [...req.query];
  query[i] = `lt=${clampLifetime(Number(v), lifetimes)}`;
  return { ...req, query };
}

export class Lwm2mGateway implements Gateway {
  readonly name: string;
  private cfg: Lwm2mGatewayConfig;
  private running = false;
  private server: Lwm2mServer | undefined;
  private core: Lwm2mGatewayCore | undefined;
  private cluster: ClusterNode | undefined;
  private orphans: OrphanSweeper | undefined;
  private unwire: (() => void) | undefined;
  private listenerState: Listener[] = [];
  readonly model: ModelProvider;
  /** Built-in, xml_dir and uploaded object definitions behind `model` (issue #5). */
  readonly objects: ObjectCatalog;
  private storedObjects: Promise<void> | undefined;
  readonly credentials: CredentialStore;

  constructor(
    private readonly ctx: GatewayContext<Lwm2mGatewayConfig>,
    private readonly opts: Lwm2mGatewayOptions = {},
  ) {
    this.name = ctx.name;
    this.cfg = ctx.config;
    // Issue #5: built-ins + xml_dir now; objects uploaded through the API are read from the store at start.
    ObjectCatalog.checkDir(this.cfg.xml_dir);
    const { registry } = createObjectRegistry({});
    this.objects = new ObjectCatalog(registry, ctx.store.kv('lwm2m.objects'), this.cfg.xml_dir, {
      maxXmlBytes: this.cfg.max_object_xml_size,
      maxUserObjects: this.cfg.max_user_objects,
    }, ctx.logger);
    this.objects.reloadDir();
    this.model = registry;
    this.credentials = new CredentialStore(ctx.store.kv('lwm2m.credentials'), SecretBox.fromFile(join(ctx.dataDir, 'secret.key')), {
      ...DEFAULT_CREDENTIAL_LIMITS,
      maxIdentityBytes: this.cfg.psk_identity_max,
      maxKeyBytes: this.cfg.psk_key_max,
    });
    for (const r of gatewayRoutes(this)) ctx.routes.add(r);
  }

  get enabled(): boolean {
    return this.running;
  }

  get config(): Lwm2mGatewayConfig {
    return this.cfg;
  }

  /** The gateway core (for the API's command shortcuts and tests). */
  get gatewayCore(): Lwm2mGatewayCore | undefined {
    return this.core;
  }

  get lwm2mServer(): Lwm2mServer | undefined {
    return this.server;
  }

  async start(): Promise<void> {
    await this.loadStoredObjects();
    if (!this.cfg.enable) return;
    await this.enable();
  }

  /** The objects uploaded through the API, read once from the store. */
  loadStoredObjects(): Promise<void> {
    this.storedObjects ??= this.objects.loadStored().catch((e: unknown) => {
      this.storedObjects = undefined; // a store error: try again at the next enable
      throw e;
    });
    return this.storedObjects;
  }

  async enable(): Promise<void> {
    if (this.running) return;
    await this.loadStoredObjects();
    const { ctx, cfg } = this;
    // Issue #4: a bad certificate/key file stops the start with one line naming its key.
    const pki: DtlsPki = cfg.dtls.enable ? loadDtlsPki(cfg.dtls, this.opts.pkiFileMaxBytes) : {};
    const random = new PooledRandom(ctx.random);
    const kv = ctx.store.kv('lwm2m.server');
    // A cluster (docs/mqtt-api.md "Cluster"): registrations record the node holding the session.
    const nodeId = ctx.clustered && ctx.nodeId ? ctx.nodeId : undefined;
    const registrations = new KvRegistrationStore(kv, cfg.registration_cache, nodeId);
    const cluster =
      nodeId === undefined
        ? undefined
        : new ClusterNode({
            nodeId,
            kv: ctx.store.kv('lwm2m.nodes'),
            claims: ctx.store.queue('lwm2m.claims', { maxLength: 1 }),
            ownerOf: (ep) => registrations.ownerOf(ep),
            timings: { heartbeatMs: cfg.cluster_heartbeat * 1000, nodeTimeoutMs: cfg.cluster_node_timeout * 1000, claimTtlMs: cfg.cluster_claim_ttl * 1000 },
            scheduler: ctx.scheduler,
            logger: ctx.logger,
          });
    const server = createLwm2mServer({
      registrationStore: registrations,
      observationStore: new KvObservationStore(kv),
      queueStore: new KvRequestQueueStore(kv),
      model: this.model,
      scheduler: ctx.scheduler,
      random,
      logger: ctx.logger,
      config: {
        awakeWindowMs: cfg.qmode_time_window * 1000,
        requestTimeoutMs: cfg.request_timeout * 1000,
        requireSecurity: cfg.require_security,
        queueMaxRequests: Math.max(1, cfg.max_queue_length),
        queueRequestTtlMs: cfg.queue_ttl * 1000,
        ...this.opts.server,
      },
    });
    const core = new Lwm2mGatewayCore({
      config: cfg,
      broker: ctx.broker,
      executor: new ServerExecutor(server),
      model: this.model,
      queue: ctx.store.queue('lwm2m.commands', { maxLength: Math.max(1, cfg.max_queue_length) }),
      observationKv: ctx.store.kv('lwm2m.gateway'),
      scheduler: ctx.scheduler,
      logger: ctx.logger,
      onEvent: (e) => ctx.events.emit('event', e),
      ...(cluster ? { cluster, onMoved: (ep: string) => registrations.evict(ep) } : {}),
    });
    const orphans = cluster
      ? new OrphanSweeper({
          registrations,
          cluster,
          expired: (ep) => core.deregistered(ep, 'expired'),
          scheduler: ctx.scheduler,
          logger: ctx.logger,
          intervalMs: cfg.cluster_node_timeout * 1000,
          graceMs: this.opts.server?.expiryGraceMs ?? DEFAULT_SERVER_CONFIG.expiryGraceMs,
        })
      : undefined;
    const queries = new RegistrationQueries();
    this.unwire = wireServer(server, core, cfg.sensitive_params, queries);
    this.listenerState = [];
    if (cfg.udp.enable) {
      const ep = new CoapEndpoint({
        transport: new UdpTransport({
          address: cfg.udp.bind,
          port: cfg.udp.port,
          recvBufferSize: cfg.udp.recbuf,
          sendBufferSize: cfg.udp.sndbuf,
          logger: ctx.logger,
        }),
        scheduler: ctx.scheduler,
        random,
        logger: ctx.logger,
      });
      attachListener(server, 'udp', ep, cfg, queries, (peer) => core.emptyAck(peer));
      this.listenerState.push({ id: 'lwm2m:udp:default', type: 'udp', endpoint: ep });
    }
    if (cfg.dtls.enable) {
      const spec: DtlsListenerSpec = {
        bind: cfg.dtls.bind,
        port: cfg.dtls.port,
        credentials: this.credentials,
        scheduler: ctx.scheduler,
        logger: ctx.logger,
        pki,
        limits: dtlsLimits(cfg.dtls),
      };
      const transport = (this.opts.dtlsTransport ?? defaultDtlsTransport)(spec);
      const ep = new CoapEndpoint({ transport, scheduler: ctx.scheduler, random, logger: ctx.logger });
      attachListener(server, 'dtls', ep, cfg, queries, (peer) => core.emptyAck(peer), x509RegisterGuard(this.credentials, ctx.logger));
      this.listenerState.push({ id: 'lwm2m:dtls:default', type: 'dtls', endpoint: ep });
    }
    await cluster?.start();
    await server.start();
    await restoreSessions(server, core, cfg.sensitive_params);
    await core.start();
    try {
      for (const l of this.listenerState) await l.endpoint.start();
    } catch (e) {
      for (const l of this.listenerState) await l.endpoint.close().catch(() => undefined);
      await core.stop();
      await cluster?.stop();
      await server.close();
      this.unwire();
      throw e;
    }
    this.server = server;
    this.core = core;
    this.cluster = cluster;
    this.orphans = orphans;
    orphans?.start();
    this.running = true;
    ctx.logger.info({ listeners: this.listeners() }, 'lwm2m gateway started');
  }

  async disable(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.orphans?.stop();
    this.orphans = undefined;
    this.unwire?.();
    await this.core?.stop();
    for (const l of this.listenerState) await l.endpoint.close().catch(() => undefined);
    await this.server?.close();
    await this.cluster?.stop();
    this.server = undefined;
    this.core = undefined;
    this.cluster = undefined;
  }

  stop(): Promise<void> {
    return this.disable();
  }

  clients(query: ClientQuery = {}): { data: GatewayClientInfo[]; count: number } {
    const core = this.core;
    if (!core) return { data: [], count: 0 };
    let eps = core.endpoints();
    if (query.like_clientid) eps = eps.filter((e) => e.includes(query.like_clientid!));
    const limit = Math.min(Math.max(1, query.limit ?? 100), 10_000);
    const page = Math.max(1, query.page ?? 1);
    const data = eps.slice((page - 1) * limit, page * limit).map((e) => core.clientInfo(e) as GatewayClientInfo);
    return { data, count: eps.length };
  }

  client(clientId: string): GatewayClientInfo | undefined {
    return this.core?.clientInfo(clientId) as GatewayClientInfo | undefined;
  }

  async kick(clientId: string): Promise<boolean> {
    return (await this.server?.deregister(clientId)) ?? false;
  }

  stats(): GatewayStats {
    return this.core ? { ...this.core.stats } : { clients: 0, messages_in: 0, messages_out: 0 };
  }

  /** CoAP counters per listener (retransmissions, dedup hits, ...), for metrics and benchmarks. */
  listenerStats(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const l of this.listenerState) out[l.id] = l.endpoint.stats();
    return out;
  }

  listeners(): ListenerStatus[] {
    return this.listenerState.map((l) => {
      const conf = l.type === 'udp' ? this.cfg.udp : this.cfg.dtls;
      const s: ListenerStatus = { id: l.id, type: l.type, bind: `${conf.bind}:${conf.port}`, running: this.running };
      if (this.running) {
        const a = l.endpoint.address();
        s.bind = `${a.address}:${a.port}`;
      }
      return s;
    });
  }
}

/** The factory the hub registers under the name "lwm2m". */
export function lwm2mGatewayFactory(opts: Lwm2mGatewayOptions = {}): GatewayFactory<Lwm2mGatewayConfig> {
  return {
    name: 'lwm2m',
    defaults: defaultConfig,
    parseConfig,
    create: (ctx) => new Lwm2mGateway(ctx, opts),
  };
}
