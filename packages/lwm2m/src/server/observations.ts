import type { ClientRequest, ClientResponse, ObserveHandlers } from '@m2mhub/coap';
import { type Scheduler, isM2MError, toHex } from '@m2mhub/core';
import { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import { type BindingContext, decodeContent, fromCoapResponse, toCoapRequest } from './binding';
import { ServerErrors } from './errors';
import type { Registration } from './registration';
import type { DeviceRequest, ObserveCompositeRequest, ObserveRequest } from './requests';
import { type DeviceResponse, codeName } from './responses';
import type { ObservationRecord, ObservationStore, RegistrationStore } from './stores';
import type { ServerTransport } from './transport';

export interface NotificationEvent {
  observationId: string;
  endpoint: string;
  registrationId: string;
  paths: string[];
  composite: boolean;
  code: string;
  codeName: string;
  /** RFC 7641 §4.4 Observe sequence number of the notification. */
  seqNum?: number;
  contentFormat?: number;
  content?: ResourceValue[];
  error?: { code: string; message: string };
}

export interface ObservationEvents {
  notification(ev: NotificationEvent): void;
  ended(observationId: string, endpoint: string, reason: string): void;
}

interface LiveObservation {
  record: ObservationRecord;
  /** The registration, kept to type notifications without a store read each (refreshed on Update). */
  reg?: Registration;
  /** Absent for an observation restored from the store (no CoAP state after a restart). */
  cancel?: (mode: 'active' | 'passive') => Promise<ClientResponse | undefined>;
}

const OBSERVE_OPTION = 6;
const DONE: DeviceResponse = { code: '2.05', codeName: 'content', ok: true };

/**
 * Observations (LwM2M Core §6.4.1 Observe, §6.4.2 Observe-Composite): started through the
 * CoAP client role, persisted in the ObservationStore, notifications matched by token
 * (live ones by the CoAP endpoint, restored ones through `matchUnmatched`), decoded and
 * published; cancelled actively (RFC 7641 §3.6 Observe=1) or passively.
 */
export class Observations {
  private readonly live = new Map<string, LiveObservation>();

  constructor(
    private readonly store: ObservationStore,
    private readonly registrations: RegistrationStore,
    private readonly binding: BindingContext,
    private readonly scheduler: Scheduler,
    private readonly maxPerDevice: number,
    private readonly events: ObservationEvents,
  ) {}

  async restore(): Promise<void> {
    for await (const o of this.store.list()) this.live.set(o.id, { record: o });
  }

  list(endpoint?: string): ObservationRecord[] {
    const out: ObservationRecord[] = [];
    for (const o of this.live.values()) if (endpoint === undefined || o.record.endpoint === endpoint) out.push(o.record);
    return out;
  }

  async start(t: ServerTransport, reg: Registration, req: ObserveRequest | ObserveCompositeRequest, coapReq: ClientRequest): Promise<DeviceResponse> {
    let count = 0;
    for (const o of this.live.values()) if (o.record.registrationId === reg.id) count++;
    if (count >= this.maxPerDevice) throw ServerErrors.invalidRequest(`${reg.endpoint}: ${count} observations already`);
    const paths = req.kind === 'observe' ? [req.path] : req.paths;
    let record: ObservationRecord | undefined;
    // Notifications right behind the first response wait until the record exists.
    const early: ClientResponse[] = [];
    const handlers: ObserveHandlers = {
      onNotify: (res) => {
        if (record) this.notify(this.live.get(record.id) ?? { record, reg }, res);
        else early.push(res);
      },
      onEnd: (reason) => {
        if (!record || this.live.get(record.id)?.record !== record) return;
        this.live.delete(record.id);
        void this.store.remove(record.id).catch(() => undefined);
        this.events.ended(record.id, record.endpoint, reason);
      },
    };
    const obs = await t.observe(reg.address, coapReq, handlers);
    const out = fromCoapResponse(req, reg, obs.first, this.binding);
    if (!out.ok || obs.first.observe === undefined) {
      // RFC 7641 §3.1: a response without Observe means the device did not register us.
      if (out.ok) void obs.cancel('passive').catch(() => undefined);
      return out;
    }
    const id = toHex(obs.token);
    record = { id, registrationId: reg.id, endpoint: reg.endpoint, paths, composite: req.kind === 'observe-composite', createdAt: this.scheduler.wallNow() };
    if (coapReq.accept !== undefined) record.contentFormat = coapReq.accept;
    const live: LiveObservation = { record, reg, cancel: (mode) => obs.cancel(mode) };
    this.live.set(id, live);
    await this.store.put(record);
    out.observationId = id;
    for (const res of early) this.notify(live, res);
    return out;
  }

  /** An Update may change object versions: later notifications are typed with the new ones. */
  refresh(reg: Registration): void {
    for (const o of this.live.values()) if (o.record.registrationId === reg.id) o.reg = reg;
  }

  private notify(live: LiveObservation, res: ClientResponse): void {
    if (live.reg) this.publish(live.record, live.reg, res);
    else {
      // Restored after a restart: read the registration once.
      void this.registrations.get(live.record.registrationId).then((reg) => {
        if (!reg) return;
        live.reg = reg;
        this.publish(live.record, reg, res);
      });
    }
  }

  private publish(record: ObservationRecord, reg: Registration, res: ClientResponse): void {
    const ev: NotificationEvent = {
      observationId: record.id,
      endpoint: record.endpoint,
      registrationId: record.registrationId,
      paths: record.paths,
      composite: record.composite,
      code: res.code,
      codeName: codeName(res.code),
    };
    if (res.observe !== undefined) ev.seqNum = res.observe;
    if (res.contentFormat !== undefined) ev.contentFormat = res.contentFormat;
    if (res.code.startsWith('2.')) {
      try {
        ev.content = decodeContent(res, record.composite ? Lwm2mPath.ROOT : Lwm2mPath.parse(record.paths[0]!), reg, this.binding);
      } catch (e) {
        ev.error = { code: isM2MError(e) ? e.code : ServerErrors.badResponse.code, message: (e as Error).message };
      }
    }
    this.events.notification(ev);
  }

  /**
   * A notification no live CoAP observation matched: accepted when its token is a restored
   * observation of the registration now at that peer (`registrationIdAtPeer`).
   */
  matchUnmatched(res: ClientResponse, registrationIdAtPeer: string | undefined): boolean {
    const live = this.live.get(toHex(res.token));
    if (!live || registrationIdAtPeer !== live.record.registrationId) return false;
    this.notify(live, res);
    return true;
  }

  /** Forgets (passively) every observation of a registration that ended. */
  async dropRegistration(registrationId: string): Promise<void> {
    for (const [id, live] of this.live) {
      if (live.record.registrationId !== registrationId) continue;
      this.live.delete(id);
      void live.cancel?.('passive').catch(() => undefined);
    }
    await this.store.removeByRegistration(registrationId);
  }

  /**
   * RFC 7641 §3.6 cancel: `active` sends the request again with Observe=1 and the same token,
   * `passive` forgets the token (the next notification gets a RST).
   */
  async cancel(
    endpoint: string,
    observationId: string,
    mode: 'active' | 'passive',
    request: (reg: Registration, req: ClientRequest) => Promise<ClientResponse>,
  ): Promise<DeviceResponse> {
    const live = this.live.get(observationId);
    if (!live || live.record.endpoint !== endpoint) throw ServerErrors.unknownObservation(observationId);
    this.live.delete(observationId);
    await this.store.remove(observationId);
    this.events.ended(observationId, endpoint, 'cancelled');
    if (live.cancel) {
      const r = await live.cancel(mode);
      return r ? { code: r.code, codeName: codeName(r.code), ok: r.code.startsWith('2.') } : DONE;
    }
    // A restored observation has no CoAP state: send the cancelling request here.
    if (mode === 'passive') return DONE;
    const reg = await this.registrations.get(live.record.registrationId);
    if (!reg) return DONE;
    const req: DeviceRequest = live.record.composite ? { kind: 'observe-composite', paths: live.record.paths } : { kind: 'observe', path: live.record.paths[0]! };
    const coapReq = toCoapRequest(req, reg, this.binding);
    coapReq.token = Buffer.from(observationId, 'hex');
    coapReq.options = [...(coapReq.options ?? []), { number: OBSERVE_OPTION, value: new Uint8Array([1]) }];
    return fromCoapResponse(req, reg, await request(reg, coapReq), this.binding);
  }
}
