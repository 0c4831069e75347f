/**
 * Connects the gateway core to the LwM2M server: server events become core calls, and the
 * core's device requests go through `Lwm2mServer.send`.
 */
import type { IncomingRequest } from '@m2mhub/coap';
import { isM2MError } from '@m2mhub/core';
import { type DeviceRequest, type DeviceResponse, type Lwm2mServer, objectVersions, type Registration, ServerErrors, splitLinks } from '@m2mhub/lwm2m';
import type { DeviceExecutor, ExecFailure, Lwm2mGatewayCore, RegistrationInfo } from './core';
import type { JsonObject } from './reply';
import { isSensitive, parseObjectLinks, queryParams } from './reginfo';

/**
 * EMQX's objectList from a registration: an object listed on its own (`</1>;ver=1.1`, or with
 * no instance) and each instance (`</1/0>`), relative to the alternate path.
 */
export function objectListOf(reg: Registration): string[] {
  const out: string[] = [];
  for (const o of reg.objects) {
    if (o.version !== undefined || o.instances.length === 0) out.push(`/${o.id}`);
    for (const i of o.instances) out.push(`/${o.id}/${i}`);
  }
  return out;
}

/**
 * The Uri-Query of each Register and Update as the device sent it (EMQX publishes the query
 * parameters as received, `apn`, `imei` and other extras included), held from the request
 * until the server's event for it. Bounded: entries never claimed (a refused request) age out.
 */
export interface SeenRequest {
  query: string[];
  /** The link-format payload split in links, when the request carried one. */
  links?: string[];
}

export class RegistrationQueries {
  private readonly byEndpoint = new Map<string, SeenRequest>();
  private readonly byRegistration = new Map<string, SeenRequest>();
  constructor(
    private readonly max = 10_000,
    /** Largest registration payload whose links are kept, bytes. */
    private readonly maxPayload = 16_384,
  ) {}

  /** Called with every request before the server handles it. */
  see(req: IncomingRequest): void {
    if (req.method !== 'POST' || req.path[0] !== 'rd') return;
    const seen: SeenRequest = { query: req.query };
    if (req.payload.length > 0 && req.payload.length <= this.maxPayload) {
      const text = Buffer.from(req.payload.buffer, req.payload.byteOffset, req.payload.byteLength).toString('utf8');
      seen.links = splitLinks(text);
    }
    if (req.path.length === 1) {
      const ep = req.query.find((q) => q.startsWith('ep='))?.slice(3);
      if (ep) put(this.byEndpoint, ep, seen, this.max);
    } else if (req.path.length === 2) put(this.byRegistration, req.path[1]!, seen, this.max);
  }

  takeRegister(ep: string): SeenRequest | undefined {
    return take(this.byEndpoint, ep);
  }

  takeUpdate(registrationId: string): SeenRequest | undefined {
    return take(this.byRegistration, registrationId);
  }
}

function put(m: Map<string, SeenRequest>, k: string, v: SeenRequest, max: number): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > max) m.delete(m.keys().next().value as string);
}

function take(m: Map<string, SeenRequest>, k: string): SeenRequest | undefined {
  const v = m.get(k);
  m.delete(k);
  return v;
}

/**
 * The registration as the gateway core sees it; `withObjects` false for an Update without
 * payload; `query` the request's Uri-Query when known (else the parameters are rebuilt from
 * the registration).
 */
export function registrationInfo(reg: Registration, sensitive: readonly string[], withObjects = true, seen?: SeenRequest): RegistrationInfo {
  // LwM2M Core §6.2.1 parameters, named as on the wire (EMQX publishes the query as received).
  let params: JsonObject;
  if (seen) params = queryParams(seen.query, sensitive);
  else {
    params = { ep: reg.endpoint, lt: reg.lifetime, lwm2m: reg.lwm2mVersion, b: reg.binding };
    if (reg.smsNumber !== undefined) params.sms = reg.smsNumber;
    if (reg.queueMode && !reg.binding.includes('Q')) params.Q = true;
    for (const k of Object.keys(params)) if (isSensitive(k, sensitive)) delete params[k];
  }
  const info: RegistrationInfo = {
    ep: reg.endpoint,
    params,
    versions: objectVersions(reg),
    queueMode: reg.queueMode,
    address: reg.address.address,
    port: reg.address.port,
    transport: reg.transport,
    lwm2mVersion: reg.lwm2mVersion,
    lifetime: reg.lifetime,
    binding: reg.binding,
  };
  if (withObjects) {
    // The links as the device sent them (EMQX's objectList), else rebuilt from the registration.
    const parsed = seen?.links ? parseObjectLinks(seen.links) : undefined;
    info.objectList = parsed?.objectList ?? objectListOf(reg);
    info.alternatePath = parsed?.alternatePath ?? reg.alternatePath;
  }
  if (reg.identity !== undefined) info.identity = `${reg.identity.kind}:${reg.identity.id}`;
  return info;
}

export class ServerExecutor implements DeviceExecutor {
  constructor(private readonly server: Lwm2mServer) {}
  send(ep: string, req: DeviceRequest, opts: { timeoutMs: number }): Promise<DeviceResponse> {
    return this.server.send(ep, req, { timeoutMs: opts.timeoutMs });
  }
  classify(err: unknown): ExecFailure {
    if (!isM2MError(err)) return 'other';
    switch (err.code) {
      case ServerErrors.deviceTimeout.code:
        return 'timeout';
      case ServerErrors.deviceReset.code:
        return 'reset';
      case ServerErrors.notRegistered.code:
      case ServerErrors.deregistered.code:
      case ServerErrors.unknownObservation.code:
        return 'not_registered';
      case ServerErrors.queueFull.code:
        return 'queue_full';
      case ServerErrors.queueExpired.code:
        return 'expired';
      default:
        return err.wire.coap === '4.00' ? 'invalid' : 'other';
    }
  }
}

/** Routes the server's events into the core; returns a function that detaches them. */
export function wireServer(server: Lwm2mServer, core: Lwm2mGatewayCore, sensitive: readonly string[], queries?: RegistrationQueries): () => void {
  const offs = [
    server.on('registered', ({ registration }) => {
      core.guard(core.registered(registrationInfo(registration, sensitive, true, queries?.takeRegister(registration.endpoint))));
    }),
    server.on('updated', ({ registration, previous }) => {
      // The server keeps the objects array when the Update had no payload (LwM2M Core §6.2.2).
      const withObjects = registration.objects !== previous.objects;
      core.guard(core.updated(registrationInfo(registration, sensitive, withObjects, queries?.takeUpdate(registration.id))));
    }),
    server.on('deregistered', ({ registration, reason }) => core.guard(core.deregistered(registration.endpoint, reason))),
    server.on('sleeping', ({ endpoint }) => core.guard(core.sleeping(endpoint))),
    server.on('awake', ({ endpoint }) => core.guard(core.awake(endpoint))),
    server.on('notification', (ev) => {
      const res: DeviceResponse = { code: ev.code, codeName: ev.codeName, ok: ev.code.startsWith('2.') && !ev.error };
      if (ev.content) res.content = ev.content;
      if (ev.error) res.error = ev.error;
      core.guard(core.notification(ev.endpoint, ev.observationId, res, ev.seqNum));
    }),
    server.on('observationEnded', ({ endpoint, observationId }) => core.observationEnded(endpoint, observationId)),
    server.on('send', ({ registration, content }) => core.guard(core.send(registration.endpoint, content))),
  ];
  return () => {
    for (const off of offs) off();
  }
}

/** Re-attaches the registrations kept in the store after a restart (nothing is published). */
export async function restoreSessions(server: Lwm2mServer, core: Lwm2mGatewayCore, sensitive: readonly string[]): Promise<number> {
  let n = 0;
  for await (const reg of server.registrations.list()) {
    await core.registered(registrationInfo(reg, sensitive), { restored: true });
    n++;
  }
  return n;
}
