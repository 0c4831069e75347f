import type { IncomingRequest, OutgoingResponse } from '@m2mhub/coap';
import { type PeerIdentity, type Random, type Scheduler, toHex } from '@m2mhub/core';
import { ServerErrors } from './errors';
import { ExpiryQueue } from './expiry';
import { type RegisterLimits, parseObjectLinks, parseRegisterQuery } from './register-params';
import type { Registration } from './registration';
import type { RegistrationStore } from './stores';

export interface RegistrationConfig {
  defaultLifetime: number;
  expiryGraceMs: number;
  requireSecurity: boolean;
  register: RegisterLimits;
}

export type DeregisterReason = 'deregister' | 'expired' | 'replaced' | 'kicked';

/** What the owner does when a registration starts, changes or ends (publication, queue mode, observations). */
export interface RegistrationHooks {
  registered(reg: Registration, replaced: Registration | undefined): void;
  updated(reg: Registration, previous: Registration): void;
  ended(reg: Registration, reason: DeregisterReason): void;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(b: Uint8Array): string {
  try {
    return UTF8.decode(b);
  } catch {
    throw ServerErrors.badRegistration('link payload is not UTF-8');
  }
}

/**
 * The Registration interface (LwM2M Core §6.2, Transport §6.4.3): Register, Update,
 * De-register, lifetime expiry (one timer for all), and the peer -> registration index that
 * Send, queue mode and restored observations use. State lives in the RegistrationStore.
 */
export class RegistrationInterface {
  /** listener -> peerKey -> registration id. */
  private readonly peers = new Map<string, Map<string, string>>();
  /** Queue-mode registrations: id -> endpoint. */
  private readonly queueRegs = new Map<string, string>();
  private readonly expiry: ExpiryQueue;
  private idPool: Uint8Array = new Uint8Array(0);
  private idPos = 0;
  private closed = false;

  constructor(
    private readonly store: RegistrationStore,
    private readonly config: RegistrationConfig,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly transportKind: (listener: string) => 'udp' | 'dtls' | 'memory' | undefined,
    private readonly defer: (fn: () => void) => void,
    private readonly hooks: RegistrationHooks,
  ) {
    this.expiry = new ExpiryQueue(scheduler, (id, deadline) => void this.onExpiryDue(id, deadline));
  }

  /** Re-reads the store after a restart: peer index and lifetimes. */
  async restore(): Promise<void> {
    const now = this.scheduler.wallNow();
    for await (const reg of this.store.list()) {
      this.index(reg);
      this.expiry.add(reg.id, Math.max(now, reg.expiresAt + this.config.expiryGraceMs));
    }
  }

  close(): void {
    this.closed = true;
    this.expiry.close();
  }

  /** The registration id of whoever is at `peerKey` on `listener`. */
  registrationIdAt(listener: string, peerKey: string): string | undefined {
    return this.peers.get(listener)?.get(peerKey);
  }

  /** The endpoint of a queue-mode registration (undefined for others). */
  queueEndpointOf(id: string): string | undefined {
    return this.queueRegs.get(id);
  }

  /** Removes a registration on the server's initiative (hook reason `kicked`). */
  async kick(endpoint: string): Promise<boolean> {
    const reg = await this.store.getByEndpoint(endpoint);
    if (!reg) return false;
    await this.store.remove(reg.id);
    this.unindex(reg);
    this.hooks.ended(reg, 'kicked');
    return true;
  }

  /**
   * LwM2M Core §6.2.1 Register, in the order of Aedes' connectActions: parse the query,
   * authorize, parse the links, build, store (replacing an older registration), reply, and
   * publish once the reply has gone out. Each failing step throws the typed error whose CoAP
   * code is the answer.
   */
  async register(listener: string, req: IncomingRequest): Promise<OutgoingResponse> {
    // 1. query: ep (mandatory), lt, lwm2m, b, Q, sms
    const params = parseRegisterQuery(req.query, this.config.register);
    const endpoint = params.endpoint;
    if (endpoint === undefined) throw ServerErrors.missingEndpoint();
    // 2. authorize: DTLS identity bound to the endpoint, requireSecurity
    this.authorize(listener, endpoint, req.identity);
    // 3. links: objects, instances, versions, alternate path, ct
    const links = parseObjectLinks(decodeUtf8(req.payload), this.config.register);
    // 4. build
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
      transport: this.transportKind(listener) ?? 'udp',
      listener,
      registeredAt: now,
      lastUpdate: now,
      expiresAt: now + lifetime * 1000,
    };
    if (params.smsNumber !== undefined) reg.smsNumber = params.smsNumber;
    if (links.contentFormat !== undefined) reg.contentFormat = links.contentFormat;
    if (req.identity !== undefined) reg.identity = req.identity;
    // 5. store; an older registration of the endpoint is replaced
    const replaced = await this.store.put(reg);
    if (replaced) this.unindex(replaced);
    this.index(reg);
    this.expiry.add(reg.id, reg.expiresAt + this.config.expiryGraceMs);
    // 7. publish once the reply has gone out
    this.defer(() => this.hooks.registered(reg, replaced));
    // 6. reply, LwM2M Transport §6.4.3: 2.01 Created with Location-Path rd/<id>
    return { code: '2.01', locationPath: ['rd', reg.id] };
  }

  private authorize(listener: string, endpoint: string, identity: PeerIdentity | undefined): void {
    // DESIGN.md §6: a DTLS identity is bound to its endpoint name.
    if (identity?.endpoint !== undefined && identity.endpoint !== endpoint) {
      throw ServerErrors.identityMismatch(`identity bound to another endpoint`);
    }
    const kind = this.transportKind(listener);
    if (this.config.requireSecurity && identity === undefined && kind !== 'dtls') throw ServerErrors.securityRequired();
  }


  /** 48 random bits, hex; drawn from a pool so a registration storm does not make one crypto call each. */
  private async newRegistrationId(): Promise<string> {
    for (;;) {
      if (this.idPos + 6 > this.idPool.length) {
        this.idPool = this.random.bytes(3072);
        this.idPos = 0;
      }
      const id = toHex(this.idPool.subarray(this.idPos, (this.idPos += 6)));
      if (!(await this.store.get(id))) return id;
    }
  }

  // LwM2M Core §6.2.2 Update.
  async update(listener: string, id: string, req: IncomingRequest): Promise<OutgoingResponse> {
    const prev = await this.store.get(id);
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
    await this.store.put(reg);
    this.unindex(prev);
    this.index(reg);
    // One heap entry per registration: a longer deadline is picked up when the old one surfaces.
    if (reg.expiresAt < prev.expiresAt) this.expiry.add(reg.id, reg.expiresAt + this.config.expiryGraceMs);
    this.defer(() => this.hooks.updated(reg, prev));
    return { code: '2.04' };
  }

  // LwM2M Core §6.2.3 De-register.
  async deregister(id: string, req: IncomingRequest): Promise<OutgoingResponse> {
    const prev = await this.store.get(id);
    if (!prev) throw ServerErrors.unknownRegistration(id);
    if (prev.identity !== undefined && req.identity?.id !== prev.identity.id) throw ServerErrors.identityMismatch('de-register from another identity');
    await this.store.remove(id);
    this.unindex(prev);
    this.defer(() => this.hooks.ended(prev, 'deregister'));
    return { code: '2.02' };
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
    const reg = await this.store.get(id);
    if (!reg) return;
    const due = reg.expiresAt + this.config.expiryGraceMs;
    if (due > deadline) {
      this.expiry.add(id, due);
      return;
    }
    await this.store.remove(id);
    this.unindex(reg);
    this.hooks.ended(reg, 'expired');
  }
}
