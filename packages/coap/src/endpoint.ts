/**
 * A CoAP endpoint over any DatagramTransport: the server role (server-role.ts), the client
 * role (client-role.ts) and the Observe client (observe-client.ts) on one message layer
 * (message-layer.ts). The message layer decides what goes on the wire; this class applies its
 * actions to the transport and the injected Scheduler, and dispatches what it delivers.
 */
import {
  type Datagram,
  type DatagramTransport,
  type Logger,
  type PeerAddress,
  type Random,
  type Scheduler,
  type TimerHandle,
  silentLogger,
  systemRandom,
  systemScheduler,
} from '@m2mhub/core';
import type {
  ClientRequest,
  ClientResponse,
  CoapMethod,
  EndpointHooks,
  Observation,
  ObserveHandlers,
  OutgoingResponse,
  RequestHandler,
} from './api';
import { szxOf } from './block';
import { ClientRole } from './client-role';
import type { EndpointContext, EndpointCounters, Waiter } from './endpoint-context';
import { CoapErrors } from './errors';
import { type LayerAction, type LayerStats, MessageLayer } from './message-layer';
import { ObserveClient } from './observe-client';
import { type CoapLimits, DEFAULT_LIMITS, type DerivedParameters, type TransmissionParameters, deriveParameters } from './params';
import { type NotifyOutcome, ServerRole } from './server-role';

export type { NotifyOutcome } from './server-role';

export { requestOptions, toClientResponse } from './client-role';

export interface CoapEndpointOptions {
  transport: DatagramTransport;
  scheduler?: Scheduler;
  random?: Random;
  logger?: Logger;
  transmission?: Partial<TransmissionParameters>;
  limits?: Partial<CoapLimits>;
  hooks?: EndpointHooks;
}

export interface EndpointStats extends LayerStats, EndpointCounters {
  /** Gauges. */
  exchanges: number;
  dedupEntries: number;
  pendingRequests: number;
  clientRequests: number;
  transfers: number;
  observations: number;
}

export class CoapEndpoint {
  readonly transport: DatagramTransport;
  /** Replaceable at any time (the LwM2M server installs its own). */
  hooks: EndpointHooks;
  readonly params: DerivedParameters;
  readonly limits: CoapLimits;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly layer: MessageLayer;
  private readonly server: ServerRole;
  private readonly client: ClientRole;
  private readonly observer: ObserveClient;
  private readonly counters: EndpointCounters;
  private readonly timerHandles = new Map<number, TimerHandle>();
  private closed = false;

  constructor(opts: CoapEndpointOptions) {
    this.transport = opts.transport;
    this.scheduler = opts.scheduler ?? systemScheduler;
    this.logger = opts.logger ?? silentLogger;
    this.hooks = opts.hooks ?? {};
    this.params = deriveParameters(opts.transmission);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const random = opts.random ?? systemRandom;
    this.layer = new MessageLayer(this.params, this.limits, random, (d, msg) => this.hooks.onActivity?.(d, msg));
    const ctx: EndpointContext = {
      layer: this.layer,
      scheduler: this.scheduler,
      random,
      logger: this.logger,
      limits: this.limits,
      ourSzx: szxOf(this.limits.blockSize),
      counters: {
        requestsHandled: 0,
        badOptions: 0,
        handlerErrors: 0,
        unmatchedResponses: 0,
        notifications: 0,
        staleNotifications: 0,
      },
      hooks: () => this.hooks,
      isClosed: () => this.closed,
      apply: (out) => this.apply(out),
    };
    this.server = new ServerRole(ctx);
    this.client = new ClientRole(ctx);
    this.observer = new ObserveClient(ctx, this.client);
    this.client.sink = this.observer;
    this.counters = ctx.counters;
    this.transport.onDatagram((d) => this.onDatagram(d));
  }

  start(): Promise<void> {
    return this.transport.start();
  }

  address(): PeerAddress {
    return this.transport.address();
  }

  /** Registers a handler for `method` (or '*') on a path pattern: "/rd", "/rd/:id", "/fw/*". */
  route(method: CoapMethod | '*', pattern: string, handler: RequestHandler): this {
    this.server.router.add(method, pattern, handler);
    return this;
  }

  /** The handler for requests no route matches (default: 4.04). */
  fallback(handler: RequestHandler): this {
    this.server.fallbackHandler = handler;
    return this;
  }

  /** Sends a request and resolves with the response, Block2 reassembled; Block1 used when the payload is large. */
  request(peer: PeerAddress, req: ClientRequest): Promise<ClientResponse> {
    return this.client.request(peer, req);
  }

  /** Registers an observation (GET/FETCH with Observe=0) and resolves once the first response is in. */
  observe(peer: PeerAddress, req: ClientRequest, handlers: ObserveHandlers): Promise<Observation> {
    return this.observer.observe(peer, req, handlers);
  }

  /** Sends one notification of a server-side observation, RFC 7641 §4.2 (see ServerRole.notify). */
  notify(peer: PeerAddress, token: Uint8Array, seq: number, res: OutgoingResponse, opts?: { confirmable?: boolean }): Promise<NotifyOutcome> {
    return this.server.notify(peer, token, seq, res, opts);
  }

  /** RFC 7252 §4.3: CoAP ping (Empty CON, expects RST). Resolves true when the peer answered. */
  ping(peer: PeerAddress): Promise<boolean> {
    return this.client.ping(peer);
  }

  stats(): EndpointStats {
    return {
      ...this.layer.stats,
      ...this.counters,
      exchanges: this.layer.exchangeCount,
      dedupEntries: this.layer.dedupSize,
      pendingRequests: this.server.pendingRequests,
      clientRequests: this.client.pending.size,
      transfers: this.server.transfers.size,
      observations: this.observer.size,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const out: LayerAction[] = [];
    this.layer.clear(out);
    this.apply(out);
    for (const h of this.timerHandles.values()) h.cancel();
    this.timerHandles.clear();
    this.client.abortAll(CoapErrors.closed());
    this.observer.clear();
    this.server.transfers.clear();
    await this.transport.close();
  }

  /** Entry point for every datagram; never throws (a bad datagram is counted and dropped). */
  private onDatagram(d: Datagram): void {
    if (this.closed) return;
    const out: LayerAction[] = [];
    try {
      this.layer.receive(d, this.scheduler.now(), out);
      this.apply(out);
    } catch (err) {
      this.layer.stats.dropped++;
      this.logger.warn({ err, peer: d.peerKey }, 'coap datagram processing failed');
    }
  }

  private apply(out: LayerAction[]): void {
    for (const a of out) {
      switch (a.t) {
        case 'send':
          this.sendRaw(a.data, a.peer);
          break;
        case 'timer': {
          const id = a.id;
          this.timerHandles.set(
            id,
            this.scheduler.setTimeout(() => {
              this.timerHandles.delete(id);
              const o: LayerAction[] = [];
              this.layer.timer(id, this.scheduler.now(), o);
              this.apply(o);
            }, a.delayMs),
          );
          break;
        }
        case 'cancel': {
          const h = this.timerHandles.get(a.id);
          if (h) {
            h.cancel();
            this.timerHandles.delete(a.id);
          }
          break;
        }
        case 'request':
          this.server.onRequest(a.key, a.msg, a.d);
          break;
        case 'response':
          this.client.onResponse(a.key, a.msg, a.d);
          break;
        case 'acked':
          (a.ex.tag as Waiter | undefined)?.acked(a.msg, a.d);
          break;
        case 'reset':
          (a.ex.tag as Waiter | undefined)?.reset();
          break;
        case 'failed':
          (a.ex.tag as Waiter | undefined)?.failed();
          break;
        case 'stray-reset':
          this.server.onStrayReset(a.messageId, a.d);
          break;
      }
    }
  }

  private sendRaw(data: Uint8Array, peer: PeerAddress): void {
    try {
      const r = this.transport.send(data, peer);
      if (r && typeof (r as Promise<void>).catch === 'function') {
        (r as Promise<void>).catch((err: unknown) => this.logger.debug({ err }, 'coap send failed'));
      }
    } catch (err) {
      this.logger.debug({ err }, 'coap send failed');
    }
  }
}
