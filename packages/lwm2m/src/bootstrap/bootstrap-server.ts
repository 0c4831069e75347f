import { CoapEndpoint, type CoapEndpointOptions, type IncomingRequest, type OutgoingResponse } from '@m2mhub/coap';
import { type Logger, type PeerAddress, type PeerIdentity, TypedEmitter, isM2MError, silentLogger } from '@m2mhub/core';
import type { CodecRegistry } from '../codec/codec-registry';
import { defaultCodecs } from '../codec/index';
import { ContentFormat } from '../codec/types';
import type { ModelProvider } from '../model/types';
import { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import { createObjectRegistry } from '../registry/builtin';
import { ServerErrors } from '../server/errors';
import type { ServerTransport } from '../server/transport';
import { type BootstrapConfig, type BootstrapConfigStore, type BootstrapServerAccount, InMemoryBootstrapConfigStore, SECURITY_MODE_VALUE } from './config';

export interface BootstrapServerConfig {
  /** Deadline of each request of a bootstrap session (ms). */
  requestTimeoutMs: number;
  /** Bootstrap sessions running at once (more: 5.03). */
  maxConcurrentSessions: number;
  /** Characters of a Bootstrap-Discover answer kept in the step event. */
  maxDiscoverLength: number;
}
export const DEFAULT_BOOTSTRAP_CONFIG: BootstrapServerConfig = { requestTimeoutMs: 30_000, maxConcurrentSessions: 1000, maxDiscoverLength: 4096 };

export interface BootstrapServerEvents extends Record<string, unknown> {
  bootstrapStarted: { endpoint: string; peer: PeerAddress };
  /** Each step of a session (for the CoAP/admin logs); values never included. */
  bootstrapStep: {
    endpoint: string;
    step: string;
    path: string;
    code: string;
    /** Bootstrap-Discover answer. */
    links?: string;
    /** Bootstrap-Read answer (only /1 and /2, which hold no secrets). */
    content?: ResourceValue[];
  };
  /** `reads`: the Bootstrap-Read results by path (those answered 2.05). */
  bootstrapFinished: { endpoint: string; reads: Record<string, ResourceValue[]> };
  bootstrapFailed: { endpoint: string; step: string; error: string };
}

export interface BootstrapServerOptions {
  configStore?: BootstrapConfigStore;
  codecs?: CodecRegistry;
  model?: ModelProvider;
  logger?: Logger;
  config?: Partial<BootstrapServerConfig>;
  /** Runs the session after the 2.04 went out (default setImmediate). */
  defer?: (fn: () => void) => void;
}

export interface BootstrapStep {
  name: 'discover' | 'read' | 'delete' | 'write' | 'finish';
  method: 'GET' | 'DELETE' | 'PUT' | 'POST';
  path: string;
  values?: ResourceValue[];
}

/**
 * The LwM2M Bootstrap Server (LwM2M Core §5.2 / §6.1): answers `POST /bs?ep=...` with 2.04,
 * then runs the session as a list of steps (Bootstrap-Delete, Bootstrap-Write of the Security
 * and Server objects, Bootstrap-Finish) built from the endpoint's BootstrapConfig.
 */
export class BootstrapServer extends TypedEmitter<BootstrapServerEvents> {
  readonly configs: BootstrapConfigStore;
  readonly config: BootstrapServerConfig;
  private readonly codecs: CodecRegistry;
  private readonly model: ModelProvider;
  private readonly log: Logger;
  private readonly defer: (fn: () => void) => void;
  private readonly transports = new Map<string, ServerTransport>();
  private readonly sessions = new Set<string>();

  constructor(opts: BootstrapServerOptions = {}) {
    super();
    this.configs = opts.configStore ?? new InMemoryBootstrapConfigStore();
    this.config = { ...DEFAULT_BOOTSTRAP_CONFIG, ...opts.config };
    this.codecs = opts.codecs ?? defaultCodecs();
    this.model = opts.model ?? createObjectRegistry().registry;
    this.log = (opts.logger ?? silentLogger).child({ component: 'lwm2m-bootstrap' });
    this.defer = opts.defer ?? ((fn) => setImmediate(fn));
  }

  addTransport(t: ServerTransport): void {
    this.transports.set(t.name, t);
  }

  /** LwM2M Core §6.1.3 Bootstrap-Request: `POST /bs?ep=<name>[&pct=<format>]`. */
  async handleRequest(listener: string, req: IncomingRequest): Promise<OutgoingResponse> {
    if (req.path.length !== 1 || req.path[0] !== 'bs') return { code: '4.04' };
    if (req.method !== 'POST') return { code: '4.05' };
    let endpoint: string | undefined;
    let pct: number | undefined;
    for (const q of req.query) {
      if (q.startsWith('ep=')) endpoint = q.slice(3);
      else if (q.startsWith('pct=') && /^[0-9]{1,5}$/.test(q.slice(4))) pct = Number(q.slice(4));
    }
    if (!endpoint) return diag('4.00', 'bootstrap request without ep');
    if (req.identity?.endpoint !== undefined && req.identity.endpoint !== endpoint) return diag('4.03', 'identity bound to another endpoint');
    const cfg = await this.configs.get(endpoint);
    if (!cfg) return diag('4.00', ServerErrors.noBootstrapConfig(endpoint).message);
    if (this.sessions.has(endpoint)) return { code: '2.04' };
    if (this.sessions.size >= this.config.maxConcurrentSessions) return { code: '5.03' };
    const t = this.transports.get(listener);
    if (!t) return { code: '5.00' };
    this.sessions.add(endpoint);
    const peer = req.peer;
    const identity = req.identity;
    this.defer(() => void this.run(t, endpoint, peer, identity, cfg, pct));
    return { code: '2.04' };
  }

  /** The steps of one session, in order (a data table, as Californium's handshake flights). */
  plan(cfg: BootstrapConfig): BootstrapStep[] {
    const steps: BootstrapStep[] = [];
    // LwM2M Core 1.1, Bootstrap Interface, Bootstrap-Discover: what the client has, for the logs;
    // a 1.0 client's error answer does not stop the session.
    if (cfg.discover !== false) steps.push({ name: 'discover', method: 'GET', path: '/' });
    // LwM2M Core 1.1, Bootstrap Interface, Bootstrap-Read: the Server object (1) and Access Control object (2) only.
    for (const p of cfg.reads ?? []) {
      if (!/^\/[12](\/[0-9]{1,5}){0,2}$/.test(p)) throw ServerErrors.invalidRequest(`Bootstrap-Read allows only /1 and /2, not ${p}`);
      steps.push({ name: 'read', method: 'GET', path: p });
    }
    for (const p of cfg.deletes ?? ['/0', '/1']) steps.push({ name: 'delete', method: 'DELETE', path: p });
    cfg.servers.forEach((s, i) => {
      const sec = s.securityInstanceId ?? i + 1;
      const srv = s.serverInstanceId ?? i + 1;
      const [identity, serverKey, secret] = securityMaterial(s, i);
      const secVals: ResourceValue[] = [
        { path: `/0/${sec}/0`, value: s.uri, type: 'string' },
        { path: `/0/${sec}/1`, value: false, type: 'boolean' },
        { path: `/0/${sec}/2`, value: SECURITY_MODE_VALUE[s.securityMode], type: 'integer' },
        { path: `/0/${sec}/3`, value: identity, type: 'opaque' },
        { path: `/0/${sec}/4`, value: serverKey, type: 'opaque' },
        { path: `/0/${sec}/5`, value: secret, type: 'opaque' },
        { path: `/0/${sec}/10`, value: s.shortServerId, type: 'integer' },
      ];
      steps.push({ name: 'write', method: 'PUT', path: `/0/${sec}`, values: secVals });
      steps.push({
        name: 'write',
        method: 'PUT',
        path: `/1/${srv}`,
        values: [
          { path: `/1/${srv}/0`, value: s.shortServerId, type: 'integer' },
          { path: `/1/${srv}/1`, value: s.lifetime, type: 'integer' },
          { path: `/1/${srv}/6`, value: s.notificationStoring ?? true, type: 'boolean' },
          { path: `/1/${srv}/7`, value: s.binding, type: 'string' },
        ],
      });
    });
    steps.push({ name: 'finish', method: 'POST', path: '/bs' });
    return steps;
  }

  private async run(t: ServerTransport, endpoint: string, peer: PeerAddress, _identity: PeerIdentity | undefined, cfg: BootstrapConfig, pct: number | undefined): Promise<void> {
    this.emit('bootstrapStarted', { endpoint, peer });
    const format = cfg.contentFormat ?? pct ?? ContentFormat.TLV;
    let current = 'start';
    const reads: Record<string, ResourceValue[]> = {};
    try {
      for (const step of this.plan(cfg)) {
        current = `${step.name} ${step.path}`;
        const path = step.path === '/bs' ? ['bs'] : step.path === '/' ? [] : step.path.slice(1).split('/');
        const req: Parameters<ServerTransport['request']>[1] = { method: step.method, path, timeoutMs: this.config.requestTimeoutMs };
        if (step.name === 'discover') req.accept = ContentFormat.LINK;
        if (step.name === 'read') req.accept = format;
        if (step.values) {
          const codec = this.codecs.get(format);
          if (!codec) throw ServerErrors.invalidRequest(`no codec for format ${format}`);
          req.contentFormat = format;
          req.payload = codec.encode(step.values, { path: Lwm2mPath.parse(step.path), model: this.model });
        }
        const res = await t.request(peer, req);
        const ev: BootstrapServerEvents['bootstrapStep'] = { endpoint, step: step.name, path: step.path, code: res.code };
        if (step.name === 'discover' && res.code === '2.05') ev.links = new TextDecoder().decode(res.payload).slice(0, this.config.maxDiscoverLength);
        if (step.name === 'read' && res.code === '2.05') {
          const codec = this.codecs.get(res.contentFormat ?? ContentFormat.TEXT);
          if (!codec) throw ServerErrors.invalidRequest(`no codec for format ${res.contentFormat}`);
          ev.content = codec.decode(res.payload, { path: Lwm2mPath.parse(step.path), model: this.model });
          reads[step.path] = ev.content;
        }
        this.emit('bootstrapStep', ev);
        // LwM2M Core §6.1.7.5: a Delete of something absent is fine (4.04 tolerated).
        // A refused Bootstrap-Read (1.0 client, 4.01/4.04) only leaves the result out.
        const ok = res.code.startsWith('2.') || (step.name === 'delete' && res.code === '4.04') || step.name === 'discover' || step.name === 'read';
        if (!ok) throw ServerErrors.bootstrapFailed(`${current} answered ${res.code}`);
      }
      this.emit('bootstrapFinished', { endpoint, reads });
    } catch (e) {
      const msg = isM2MError(e) ? e.message : String((e as Error).message);
      this.log.warn({ endpoint, step: current, err: msg }, 'bootstrap failed');
      this.emit('bootstrapFailed', { endpoint, step: current, error: msg });
    } finally {
      this.sessions.delete(endpoint);
    }
  }
}

/**
 * LwM2M Core 1.1 E.1 resources 3 (Public Key or Identity), 4 (Server Public Key), 5 (Secret Key)
 * for the account's security mode. RPK and X.509 need all three (a bad config fails the plan,
 * naming the field, never its value).
 */
function securityMaterial(s: BootstrapServerAccount, i: number): [Uint8Array, Uint8Array, Uint8Array] {
  const empty = new Uint8Array(0);
  switch (s.securityMode) {
    case 'psk':
      return [new TextEncoder().encode(s.pskIdentity ?? ''), empty, s.pskKey ?? empty];
    case 'nosec':
      return [empty, empty, empty];
    case 'rpk':
    case 'x509': {
      const missing = (['publicKeyOrIdentity', 'serverPublicKey', 'secretKey'] as const).filter((k) => !s[k]?.length);
      if (missing.length > 0) throw ServerErrors.invalidRequest(`servers[${i}] (${s.securityMode}) lacks ${missing.join(', ')}`);
      return [s.publicKeyOrIdentity!, s.serverPublicKey!, s.secretKey!];
    }
  }
}

function diag(code: string, text: string): OutgoingResponse {
  return { code, payload: new TextEncoder().encode(text.slice(0, 128)) };
}

/** Routes `/bs` of a CoapEndpoint to the bootstrap server and lends it the endpoint's client role. */
export function attachBootstrapEndpoint(bs: BootstrapServer, endpoint: CoapEndpoint, name = 'udp'): void {
  bs.addTransport({
    name,
    kind: endpoint.transport.kind,
    request: (peer, req) => endpoint.request(peer, req),
    observe: (peer, req, handlers) => endpoint.observe(peer, req, handlers),
  });
  endpoint.route('*', '/bs', (req) => bs.handleRequest(name, req));
}

/** A CoapEndpoint serving only bootstrap (its own port, LwM2M's 5683/5684 by convention). */
export function createBootstrapEndpoint(bs: BootstrapServer, opts: CoapEndpointOptions, name = 'udp'): CoapEndpoint {
  const endpoint = new CoapEndpoint(opts);
  attachBootstrapEndpoint(bs, endpoint, name);
  return endpoint;
}
