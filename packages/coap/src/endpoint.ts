/**
 * A CoAP endpoint over any DatagramTransport: the server role (router of resources) and the
 * client role (requests, Observe), with block-wise transfers in both directions. The message
 * layer state machine (message-layer.ts) decides what goes on the wire; this class applies its
 * actions to the transport and the injected Scheduler, and holds the request/response layer.
 */
import {
  type Datagram,
  type DatagramTransport,
  type Logger,
  type PeerAddress,
  type Random,
  type Scheduler,
  type TimerHandle,
  concatBytes,
  isM2MError,
  silentLogger,
  systemRandom,
  systemScheduler,
  toHex,
} from '@m2mhub/core';
import type {
  ClientRequest,
  ClientResponse,
  CoapMessage,
  CoapMethod,
  CoapOption,
  EndpointHooks,
  IncomingRequest,
  Observation,
  ObserveHandlers,
  OutgoingResponse,
  RequestHandler,
} from './api';
import { type BlockValue, blockSize, decodeBlock, encodeBlock, szxOf } from './block';
import { METHOD_CODES, isSuccessCode, methodOf } from './codes';
import { CoapErrors } from './errors';
import { type ExchangeKey, type LayerAction, type LayerStats, MessageLayer, type OutboundExchange } from './message-layer';
import { isFresh } from './observe';
import {
  OptionNumber as O,
  decodeUint,
  firstUnrecognisedCritical,
  fromUtf8,
  getOption,
  pathSegments,
  stringOption,
  uintOption,
  utf8,
} from './options';
import {
  type CoapLimits,
  DEFAULT_LIMITS,
  type DerivedParameters,
  type TransmissionParameters,
  deriveParameters,
} from './params';
import { LRUCache } from 'lru-cache';
import { Router } from './router';
import { TransferStore } from './transfers';

export interface CoapEndpointOptions {
  transport: DatagramTransport;
  scheduler?: Scheduler;
  random?: Random;
  logger?: Logger;
  transmission?: Partial<TransmissionParameters>;
  limits?: Partial<CoapLimits>;
  hooks?: EndpointHooks;
}

export interface EndpointStats extends LayerStats {
  requestsHandled: number;
  badOptions: number;
  handlerErrors: number;
  unmatchedResponses: number;
  notifications: number;
  staleNotifications: number;
  /** Gauges. */
  exchanges: number;
  dedupEntries: number;
  pendingRequests: number;
  clientRequests: number;
  transfers: number;
  observations: number;
}

/** Who waits on a confirmable message we sent (the `tag` of an OutboundExchange). */
interface Waiter {
  acked(msg: CoapMessage, d: Datagram): void;
  reset(): void;
  failed(): void;
}

interface PendingRequest extends Waiter {
  peer: PeerAddress;
  /** Completes the exchange with a response (piggybacked or separate). */
  complete(msg: CoapMessage): void;
  /** Fails the exchange (closed, cancelled). */
  abort(err: Error): void;
  ex: OutboundExchange | undefined;
}

interface ObservationState {
  tokenHex: string;
  token: Uint8Array;
  peer: PeerAddress;
  handlers: ObserveHandlers;
  request: ClientRequest;
  v1: number;
  t1: number;
  expiry: TimerHandle | undefined;
  chain: Promise<void>;
}

const EMPTY = new Uint8Array(0);
const REQUEST_BLOCK_OPTIONS: readonly number[] = [O.Block1, O.Block2, O.Size1, O.Size2, O.Observe];

/** Parsed request options the server role needs, in one pass. */
interface RequestView {
  path: string[];
  query: string[];
  contentFormat: number | undefined;
  accept: number | undefined;
  observe: number | undefined;
  block1: BlockValue | undefined;
  block2: BlockValue | undefined;
  size1: number | undefined;
  proxy: boolean;
  badBlock: boolean;
}

function viewRequest(msg: CoapMessage): RequestView {
  const v: RequestView = {
    path: [],
    query: [],
    contentFormat: undefined,
    accept: undefined,
    observe: undefined,
    block1: undefined,
    block2: undefined,
    size1: undefined,
    proxy: false,
    badBlock: false,
  };
  for (const o of msg.options) {
    switch (o.number) {
      case O.UriPath:
        v.path.push(fromUtf8(o.value));
        break;
      case O.UriQuery:
        v.query.push(fromUtf8(o.value));
        break;
      case O.ContentFormat:
        v.contentFormat = decodeUint(o.value);
        break;
      case O.Accept:
        v.accept = decodeUint(o.value);
        break;
      case O.Observe:
        v.observe = decodeUint(o.value);
        break;
      case O.Block1:
        v.block1 = decodeBlock(o.value);
        if (!v.block1) v.badBlock = true;
        break;
      case O.Block2:
        v.block2 = decodeBlock(o.value);
        if (!v.block2) v.badBlock = true;
        break;
      case O.Size1:
        v.size1 = decodeUint(o.value);
        break;
      case O.ProxyUri:
      case O.ProxyScheme:
        v.proxy = true;
        break;
    }
  }
  return v;
}

function uriKeyOf(d: Datagram, msg: CoapMessage, v: RequestView): string {
  return `${d.peerKey} ${msg.code} ${v.path.join('/')}?${v.query.join('&')}`;
}

/** FNV-1a over the body: a cheap ETag so a client can tell a body changed between blocks (RFC 7959 §2.4). */
function etagOf(body: Uint8Array): Uint8Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) h = Math.imul(h ^ body[i]!, 0x01000193);
  h >>>= 0;
  return Uint8Array.of(h >>> 24, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff);
}

export function toClientResponse(msg: CoapMessage, payload: Uint8Array = msg.payload): ClientResponse {
  const res: ClientResponse = { code: msg.code, payload, options: msg.options, token: msg.token, message: msg };
  for (const o of msg.options) {
    if (o.number === O.ContentFormat) res.contentFormat = decodeUint(o.value);
    else if (o.number === O.Observe) res.observe = decodeUint(o.value);
  }
  return res;
}

/** The options of a client request (without block options). */
export function requestOptions(req: ClientRequest): CoapOption[] {
  const opts: CoapOption[] = [];
  for (const seg of pathSegments(req.path)) opts.push(stringOption(O.UriPath, seg));
  if (req.contentFormat !== undefined) opts.push(uintOption(O.ContentFormat, req.contentFormat));
  for (const q of req.query ?? []) opts.push(stringOption(O.UriQuery, q));
  if (req.accept !== undefined) opts.push(uintOption(O.Accept, req.accept));
  if (req.options) opts.push(...req.options);
  return opts;
}

export class CoapEndpoint {
  readonly transport: DatagramTransport;
  hooks: EndpointHooks;
  readonly params: DerivedParameters;
  readonly limits: CoapLimits;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly layer: MessageLayer;
  private readonly router = new Router();
  private fallbackHandler: RequestHandler = () => ({ code: '4.04' });
  private readonly transfers: TransferStore;
  private readonly timerHandles = new Map<number, TimerHandle>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly observations = new Map<string, ObservationState>();
  /** NON notifications recently sent, by Message ID, to recognise the RST that cancels them. */
  private readonly nonNotifications: LRUCache<number, { peer: PeerAddress; token: Uint8Array }>;
  private readonly ourSzx: number;
  private pendingRequests = 0;
  private closed = false;
  private readonly counters = {
    requestsHandled: 0,
    badOptions: 0,
    handlerErrors: 0,
    unmatchedResponses: 0,
    notifications: 0,
    staleNotifications: 0,
  };

  constructor(opts: CoapEndpointOptions) {
    this.transport = opts.transport;
    this.scheduler = opts.scheduler ?? systemScheduler;
    this.random = opts.random ?? systemRandom;
    this.logger = opts.logger ?? silentLogger;
    this.hooks = opts.hooks ?? {};
    this.params = deriveParameters(opts.transmission);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.ourSzx = szxOf(this.limits.blockSize);
    this.nonNotifications = new LRUCache({ max: this.limits.maxObservations });
    this.transfers = new TransferStore(this.limits.maxConcurrentTransfers, this.limits.transferExpiryMs);
    this.layer = new MessageLayer(this.params, this.limits, this.random, (d, msg) => this.hooks.onActivity?.(d, msg));
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
    this.router.add(method, pattern, handler);
    return this;
  }

  /** The handler for requests no route matches (default: 4.04). */
  fallback(handler: RequestHandler): this {
    this.fallbackHandler = handler;
    return this;
  }

  stats(): EndpointStats {
    return {
      ...this.layer.stats,
      ...this.counters,
      exchanges: this.layer.exchangeCount,
      dedupEntries: this.layer.dedupSize,
      pendingRequests: this.pendingRequests,
      clientRequests: this.pending.size,
      transfers: this.transfers.size,
      observations: this.observations.size,
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
    for (const p of [...this.pending.values()]) p.abort(CoapErrors.closed());
    this.pending.clear();
    // Observations are dropped without onEnd: their owner may restore them after a restart.
    for (const o of this.observations.values()) o.expiry?.cancel();
    this.observations.clear();
    this.transfers.clear();
    await this.transport.close();
  }

  // ---------------------------------------------------------------- inbound

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
          this.onRequest(a.key, a.msg, a.d);
          break;
        case 'response':
          this.onResponse(a.key, a.msg, a.d);
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
        case 'stray-reset': {
          const n = this.nonNotifications.get(a.messageId);
          if (n && n.peer.port === a.d.peer.port && n.peer.address === a.d.peer.address) {
            this.nonNotifications.delete(a.messageId);
            this.hooks.onNotificationReset?.(n.peer, n.token);
          }
          break;
        }
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

  // ---------------------------------------------------------------- server role

  private reply(key: ExchangeKey, req: CoapMessage, d: Datagram, res: Omit<CoapMessage, 'type' | 'messageId'>): void {
    const out: LayerAction[] = [];
    try {
      this.layer.respond(key, req, d.peer, res, this.scheduler.now(), out);
    } catch (err) {
      // A separate response over the exchange limits is dropped; the client will retry.
      this.logger.debug({ err }, 'coap response not sent');
    }
    this.apply(out);
  }

  private replyCode(key: ExchangeKey, req: CoapMessage, d: Datagram, code: string, options: CoapOption[] = [], diag?: string): void {
    this.reply(key, req, d, { code, token: req.token, options, payload: diag ? utf8(diag) : EMPTY });
  }

  private onRequest(key: ExchangeKey, msg: CoapMessage, d: Datagram): void {
    const method = methodOf(msg.code);
    // RFC 7252 §5.8: an unknown method code is answered 4.05.
    if (!method) {
      this.replyCode(key, msg, d, '4.05');
      return;
    }
    // RFC 7252 §5.4.1: an unrecognised critical option in a CON/NON request gets 4.02.
    const bad = firstUnrecognisedCritical(msg.options);
    if (bad !== undefined) {
      this.counters.badOptions++;
      this.replyCode(key, msg, d, '4.02', [], `option ${bad}`);
      return;
    }
    const v = viewRequest(msg);
    // RFC 7252 §5.7.2: we are not a proxy.
    if (v.proxy) {
      this.replyCode(key, msg, d, '5.05');
      return;
    }
    if (v.badBlock) {
      this.counters.badOptions++;
      this.replyCode(key, msg, d, '4.02', [], 'malformed block option');
      return;
    }
    const max = this.limits.maxBodySize;
    // RFC 7959 §4: Size1 announces the body size; refuse early with 4.13 + Size1.
    if (v.size1 !== undefined && v.size1 > max) {
      this.replyCode(key, msg, d, '4.13', [uintOption(O.Size1, max)]);
      return;
    }
    const now = this.scheduler.now();
    // Block-wise state is keyed by peer, method and URI (computed only when blocks are involved).
    const uriKey = v.block1 || v.block2 ? uriKeyOf(d, msg, v) : undefined;
    let payload = msg.payload;
    let block1Ack: BlockValue | undefined;
    if (v.block1) {
      const r = this.receiveBlock1(key, msg, d, v.block1, uriKey!, now);
      if (!r) return;
      payload = r;
      block1Ack = { num: v.block1.num, more: false, szx: v.block1.szx };
    }
    // RFC 7959 §2.4: a Block2 follow-up is served from the kept body when we have it.
    if (v.block2 && v.block2.num > 0 && !v.block1) {
      const kept = this.transfers.getBlock2(uriKey!, now);
      if (kept) {
        this.sendBody(key, msg, d, v, uriKey, kept.code, kept.body, kept.options, kept.etag);
        return;
      }
    }
    if (this.pendingRequests >= this.limits.maxPendingRequests) {
      this.replyCode(key, msg, d, '5.03');
      return;
    }
    let handler: RequestHandler;
    let params: Record<string, string> | undefined;
    const m = this.router.match(method, v.path);
    if ('handler' in m) {
      handler = m.handler;
      params = m.params;
    } else if (m.methodMismatch) {
      this.replyCode(key, msg, d, '4.05');
      return;
    } else handler = this.fallbackHandler;
    const req: IncomingRequest = {
      method,
      path: v.path,
      query: v.query,
      payload,
      peer: d.peer,
      peerKey: d.peerKey,
      message: msg,
    };
    if (v.contentFormat !== undefined) req.contentFormat = v.contentFormat;
    if (v.accept !== undefined) req.accept = v.accept;
    if (v.observe !== undefined) req.observe = v.observe;
    if (d.identity) req.identity = d.identity;
    if (params) req.params = params;
    this.counters.requestsHandled++;
    let result: Promise<OutgoingResponse> | OutgoingResponse;
    try {
      result = handler(req);
    } catch (err) {
      result = this.errorResponse(err);
    }
    if (!(result instanceof Promise)) {
      this.sendResponse(key, msg, d, v, uriKey, result, block1Ack);
      return;
    }
    this.pendingRequests++;
    let timer: TimerHandle | undefined;
    if (msg.type === 'CON') {
      // RFC 7252 §5.2.2: a slow handler gets an empty ACK first, the response follows as a CON.
      timer = this.scheduler.setTimeout(() => {
        timer = undefined;
        const out: LayerAction[] = [];
        this.layer.ackEmpty(key, msg, d.peer, out);
        this.apply(out);
      }, this.limits.separateResponseDelayMs);
    }
    result
      .catch((err: unknown) => this.errorResponse(err))
      .then((res) => {
        this.pendingRequests--;
        timer?.cancel();
        if (!this.closed) this.sendResponse(key, msg, d, v, uriKey, res, block1Ack);
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'coap response failed'));
  }

  private errorResponse(err: unknown): OutgoingResponse {
    this.counters.handlerErrors++;
    if (isM2MError(err) && err.wire.coap) return { code: err.wire.coap, payload: utf8(err.message) };
    this.logger.warn({ err }, 'coap handler failed');
    return { code: '5.00' };
  }

  /** Block1 reassembly (RFC 7959 §2.5). Returns the whole body on the last block, else answers and returns undefined. */
  private receiveBlock1(
    key: ExchangeKey,
    msg: CoapMessage,
    d: Datagram,
    b: BlockValue,
    uriKey: string,
    now: number,
  ): Uint8Array | undefined {
    const size = blockSize(b.szx);
    const offset = b.num * size;
    const data = msg.payload;
    const t = b.num === 0 ? this.transfers.startBlock1(uriKey, now) : this.transfers.getBlock1(uriKey, now);
    if (!t) {
      if (b.num === 0) {
        this.replyCode(key, msg, d, '5.03', [], 'too many block-wise transfers');
      } else this.replyCode(key, msg, d, '4.08');
      return undefined;
    }
    const ackSzx = Math.min(b.szx, this.ourSzx);
    if (offset < t.received && offset + data.length <= t.received && b.more) {
      // A block we already have (a retransmission with a new Message ID): acknowledge again.
      this.replyCode(key, msg, d, '2.31', [{ number: O.Block1, value: encodeBlock({ num: b.num, more: true, szx: ackSzx }) }]);
      return undefined;
    }
    if (offset !== t.received || (b.more && data.length !== size)) {
      // RFC 7959 §2.9.2: a gap or a short non-final block.
      this.transfers.endBlock1(uriKey);
      this.replyCode(key, msg, d, '4.08');
      return undefined;
    }
    if (t.received + data.length > this.limits.maxBodySize) {
      this.transfers.endBlock1(uriKey);
      this.replyCode(key, msg, d, '4.13', [uintOption(O.Size1, this.limits.maxBodySize)]);
      return undefined;
    }
    t.chunks.push(data.slice());
    t.received += data.length;
    if (b.more) {
      // RFC 7959 §2.3: 2.31 Continue, with our (possibly smaller) block size.
      this.replyCode(key, msg, d, '2.31', [{ number: O.Block1, value: encodeBlock({ num: b.num, more: true, szx: ackSzx }) }]);
      return undefined;
    }
    this.transfers.endBlock1(uriKey);
    return concatBytes(...t.chunks);
  }

  private sendResponse(
    key: ExchangeKey,
    msg: CoapMessage,
    d: Datagram,
    v: RequestView,
    uriKey: string | undefined,
    res: OutgoingResponse,
    block1Ack: BlockValue | undefined,
  ): void {
    const options: CoapOption[] = [];
    if (res.etag) options.push({ number: O.ETag, value: res.etag });
    if (res.observe !== undefined) options.push(uintOption(O.Observe, res.observe & 0xffffff));
    if (res.locationPath) for (const s of res.locationPath) options.push(stringOption(O.LocationPath, s));
    if (res.contentFormat !== undefined) options.push(uintOption(O.ContentFormat, res.contentFormat));
    if (res.maxAge !== undefined) options.push(uintOption(O.MaxAge, res.maxAge));
    if (res.options) options.push(...res.options);
    if (block1Ack) options.push({ number: O.Block1, value: encodeBlock(block1Ack) });
    const body = res.payload ?? EMPTY;
    const szx = v.block2 ? Math.min(v.block2.szx, this.ourSzx) : this.ourSzx;
    if (body.length > blockSize(szx) || (v.block2 && body.length > 0)) {
      const etag = res.etag ?? etagOf(body);
      if (!res.etag) options.push({ number: O.ETag, value: etag });
      this.sendBody(key, msg, d, v, uriKey, res.code, body, options, etag);
      return;
    }
    this.reply(key, msg, d, { code: res.code, token: msg.token, options, payload: body });
  }

  /** RFC 7959 §2.4: one block of a large body, keeping the body for the follow-ups. */
  private sendBody(
    key: ExchangeKey,
    msg: CoapMessage,
    d: Datagram,
    v: RequestView,
    uriKey: string | undefined,
    code: string,
    body: Uint8Array,
    options: CoapOption[],
    etag: Uint8Array,
  ): void {
    // RFC 7959 §2.3: the smaller of both block sizes; the offset the client asked for is kept.
    const szx = v.block2 ? Math.min(v.block2.szx, this.ourSzx) : this.ourSzx;
    const size = blockSize(szx);
    const num = v.block2 ? (v.block2.num * blockSize(v.block2.szx)) / size : 0;
    const offset = num * size;
    if (offset >= body.length) {
      this.replyCode(key, msg, d, '4.02', [], 'block number out of range');
      return;
    }
    const more = offset + size < body.length;
    const opts = options.slice();
    opts.push({ number: O.Block2, value: encodeBlock({ num, more, szx }) });
    if (num === 0) opts.push(uintOption(O.Size2, body.length));
    if (num === 0 || more) {
      this.transfers.putBlock2(uriKey ?? uriKeyOf(d, msg, v), { code, body, etag, options }, this.scheduler.now());
    }
    this.reply(key, msg, d, { code, token: msg.token, options: opts, payload: body.subarray(offset, offset + size) });
  }

  // ---------------------------------------------------------------- client role

  /** Sends a request and resolves with the response, Block2 reassembled; Block1 used when the payload is large. */
  async request(peer: PeerAddress, req: ClientRequest): Promise<ClientResponse> {
    if (this.closed) throw CoapErrors.closed();
    const deadline = this.scheduler.now() + (req.timeoutMs ?? this.limits.requestTimeoutMs);
    const code = METHOD_CODES[req.method];
    if (!code) throw CoapErrors.invalidRequest(`method ${req.method}`);
    const options = requestOptions(req);
    const token = req.token ?? this.random.bytes(this.limits.tokenLength);
    const type = req.confirmable === false ? 'NON' : 'CON';
    const payload = req.payload ?? EMPTY;
    let first: CoapMessage;
    if (payload.length > blockSize(this.ourSzx)) {
      first = await this.sendBlock1(peer, type, code, options, token, payload, deadline, req.signal);
    } else {
      first = await this.exchange(peer, { type, code, messageId: 0, token, options, payload }, deadline, req.signal);
    }
    return this.followBlock2(peer, type, code, options, () => token, payload, first, deadline, req.signal);
  }

  /** RFC 7959 §2.5: sends `payload` in Block1 blocks, adapting to a smaller block size the server asks for. */
  private async sendBlock1(
    peer: PeerAddress,
    type: 'CON' | 'NON',
    code: string,
    options: CoapOption[],
    token: Uint8Array,
    payload: Uint8Array,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<CoapMessage> {
    let szx = this.ourSzx;
    let offset = 0;
    for (;;) {
      const size = blockSize(szx);
      const num = offset / size;
      const more = offset + size < payload.length;
      const opts = options.slice();
      opts.push({ number: O.Block1, value: encodeBlock({ num, more, szx }) });
      if (num === 0) opts.push(uintOption(O.Size1, payload.length));
      const res = await this.exchange(
        peer,
        { type, code, messageId: 0, token, options: opts, payload: payload.subarray(offset, offset + size) },
        deadline,
        signal,
      );
      if (!more || res.code !== '2.31') return res;
      const ack = getOption(res.options, O.Block1);
      const b = ack ? decodeBlock(ack.value) : undefined;
      offset += size;
      if (b && b.szx < szx) szx = b.szx;
    }
  }

  /** RFC 7959 §2.4: fetches the rest of a Block2 body; `tokenFor(num)` gives each follow-up's token. */
  private async followBlock2(
    peer: PeerAddress,
    type: 'CON' | 'NON',
    code: string,
    options: CoapOption[],
    tokenFor: (num: number) => Uint8Array,
    payload: Uint8Array,
    first: CoapMessage,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<ClientResponse> {
    const opt = getOption(first.options, O.Block2);
    const b0 = opt ? decodeBlock(opt.value) : undefined;
    if (!b0?.more || !isSuccessCode(first.code)) return toClientResponse(first);
    const etag = getOption(first.options, O.ETag)?.value;
    const chunks: Uint8Array[] = [first.payload];
    // A request that asked for block N itself (a resumed download) gets the body from there on.
    const start = b0.num * blockSize(b0.szx);
    let received = start + first.payload.length;
    let szx = b0.szx;
    // Quirk (Anjay, fixtures README): a follow-up repeats the first request's options exactly.
    const base = options.filter((o) => !REQUEST_BLOCK_OPTIONS.includes(o.number));
    const followPayload = code === METHOD_CODES.FETCH ? payload : EMPTY;
    for (;;) {
      const size = blockSize(szx);
      const num = received / size;
      if (!Number.isInteger(num)) throw CoapErrors.blockMismatch('block boundary');
      const opts = base.slice();
      opts.push({ number: O.Block2, value: encodeBlock({ num, more: false, szx }) });
      const res = await this.exchange(
        peer,
        { type, code, messageId: 0, token: tokenFor(num), options: opts, payload: followPayload },
        deadline,
        signal,
      );
      if (!isSuccessCode(res.code)) return toClientResponse(res);
      const bo = getOption(res.options, O.Block2);
      const b = bo ? decodeBlock(bo.value) : undefined;
      if (!b) throw CoapErrors.blockMismatch('follow-up response without Block2');
      const tag = getOption(res.options, O.ETag)?.value;
      if (etag && tag && toHex(etag) !== toHex(tag)) throw CoapErrors.blockMismatch('ETag changed');
      if (b.num * blockSize(b.szx) !== received) throw CoapErrors.blockMismatch(`block ${b.num} at ${received}`);
      if (received - start + res.payload.length > this.limits.maxBodySize) {
        throw CoapErrors.bodyTooLarge(`over ${this.limits.maxBodySize}`);
      }
      chunks.push(res.payload);
      received += res.payload.length;
      szx = b.szx;
      if (!b.more) return toClientResponse(res, concatBytes(...chunks));
      if (res.payload.length !== blockSize(b.szx)) throw CoapErrors.blockMismatch('short block');
    }
  }

  /**
   * One request message and its response (piggybacked or separate). `onResponse` runs
   * synchronously when the response arrives, before anything else is processed.
   */
  private exchange(
    peer: PeerAddress,
    msg: CoapMessage,
    deadline: number,
    signal: AbortSignal | undefined,
    onResponse?: (msg: CoapMessage) => void,
  ): Promise<CoapMessage> {
    return new Promise<CoapMessage>((resolve, reject) => {
      if (this.closed) return reject(CoapErrors.closed());
      if (signal?.aborted) return reject(CoapErrors.cancelled());
      const tokenHex = toHex(msg.token);
      if (this.pending.has(tokenHex)) return reject(CoapErrors.invalidRequest('token already in use'));
      let timer: TimerHandle | undefined;
      let done = false;
      const finish = () => {
        done = true;
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.get(tokenHex) === p) this.pending.delete(tokenHex);
      };
      const fail = (err: Error) => {
        if (done) return;
        finish();
        if (p.ex) {
          const out: LayerAction[] = [];
          this.layer.cancel(p.ex, out);
          this.apply(out);
        }
        reject(err);
      };
      const onAbort = () => fail(CoapErrors.cancelled());
      const p: PendingRequest = {
        peer,
        ex: undefined,
        complete: (res) => {
          if (done) return;
          finish();
          if (p.ex && p.ex.state !== 'done') {
            // RFC 7252 §5.2.2: a separate response also acknowledges our request.
            const out: LayerAction[] = [];
            this.layer.cancel(p.ex, out);
            this.apply(out);
          }
          onResponse?.(res);
          resolve(res);
        },
        acked: (ack) => {
          // An Empty ACK: the response comes separately (RFC 7252 §5.2.2). A piggybacked
          // response must carry our token (§5.3.2); one that does not only acknowledges.
          if (ack.code === '0.00') return;
          if (toHex(ack.token) === tokenHex) p.complete(ack);
          else this.counters.unmatchedResponses++;
        },
        abort: fail,
        reset: () => fail(CoapErrors.reset()),
        failed: () => fail(CoapErrors.timeout('no ACK after MAX_RETRANSMIT')),
      };
      this.pending.set(tokenHex, p);
      timer = this.scheduler.setTimeout(() => fail(CoapErrors.timeout()), Math.max(0, deadline - this.scheduler.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      const out: LayerAction[] = [];
      try {
        p.ex = this.layer.send(msg, peer, this.scheduler.now(), out, p);
      } catch (err) {
        finish();
        return reject(err);
      }
      this.apply(out);
    });
  }

  /** Separate responses and notifications (CON/NON messages carrying a response code). */
  private onResponse(key: ExchangeKey, msg: CoapMessage, d: Datagram): void {
    const tokenHex = toHex(msg.token);
    const p = this.pending.get(tokenHex);
    if (p && p.peer.port === d.peer.port && p.peer.address === d.peer.address) {
      this.acceptResponse(key, msg, d, true);
      p.complete(msg);
      return;
    }
    const obs = this.observations.get(tokenHex);
    if (obs) {
      this.acceptResponse(key, msg, d, true);
      this.onNotification(obs, msg);
      return;
    }
    this.counters.unmatchedResponses++;
    const res = toClientResponse(msg);
    let accept = false;
    if (res.observe !== undefined && this.hooks.onUnmatchedNotification) {
      try {
        accept = this.hooks.onUnmatchedNotification(res, d.peer, d.peerKey, d.identity);
      } catch (err) {
        this.logger.warn({ err }, 'onUnmatchedNotification failed');
      }
    }
    // RFC 7641 §3.6: a notification nobody wants is answered with RST.
    this.acceptResponse(key, msg, d, accept);
  }

  private acceptResponse(key: ExchangeKey, msg: CoapMessage, d: Datagram, accept: boolean): void {
    const out: LayerAction[] = [];
    this.layer.acceptResponse(key, msg, d.peer, accept, out);
    this.apply(out);
  }

  // ---------------------------------------------------------------- Observe (RFC 7641)

  /** Registers an observation (GET with Observe=0) and resolves once the first response is in. */
  async observe(peer: PeerAddress, req: ClientRequest, handlers: ObserveHandlers): Promise<Observation> {
    if (this.closed) throw CoapErrors.closed();
    if (this.observations.size >= this.limits.maxObservations) throw CoapErrors.tooManyExchanges('observations');
    const deadline = this.scheduler.now() + (req.timeoutMs ?? this.limits.requestTimeoutMs);
    const token = req.token ?? this.random.bytes(this.limits.tokenLength);
    const tokenHex = toHex(token);
    const options = requestOptions({ ...req, options: [uintOption(O.Observe, 0), ...(req.options ?? [])] });
    const code = METHOD_CODES[req.method];
    const type = req.confirmable === false ? 'NON' : 'CON';
    const msg: CoapMessage = { type, code, messageId: 0, token, options, payload: req.payload ?? EMPTY };
    let state: ObservationState | undefined;
    const first = await this.exchange(peer, msg, deadline, req.signal, (res) => {
      // Registered synchronously, so a notification right behind the response is not lost.
      const o = getOption(res.options, O.Observe);
      if (!o || !isSuccessCode(res.code)) return;
      state = {
        tokenHex,
        token,
        peer,
        handlers,
        request: req,
        v1: decodeUint(o.value),
        t1: this.scheduler.now(),
        expiry: undefined,
        chain: Promise.resolve(),
      };
      this.observations.set(tokenHex, state);
      this.armExpiry(state, res);
    });
    const firstRes = await this.followBlock2(
      peer,
      type,
      code,
      options,
      () => this.random.bytes(this.limits.tokenLength),
      msg.payload,
      first,
      deadline,
      req.signal,
    );
    if (!state) handlers.onEnd?.('error', firstRes);
    const s = state;
    return {
      token,
      first: firstRes,
      cancel: async (mode: 'active' | 'passive' = 'active') => {
        if (!s || this.observations.get(tokenHex) !== s) return undefined;
        this.endObservation(s);
        let res: ClientResponse | undefined;
        try {
          if (mode === 'active') {
            // RFC 7641 §3.6: GET with Observe=1, same token and options.
            const opts = requestOptions({ ...req, options: [uintOption(O.Observe, 1), ...(req.options ?? [])] });
            const cancelMsg: CoapMessage = { type: 'CON', code, messageId: 0, token, options: opts, payload: msg.payload };
            const deadline2 = this.scheduler.now() + (req.timeoutMs ?? this.limits.requestTimeoutMs);
            const r = await this.exchange(peer, cancelMsg, deadline2, undefined);
            const tokens = () => this.random.bytes(this.limits.tokenLength);
            res = await this.followBlock2(peer, 'CON', code, opts, tokens, msg.payload, r, deadline2, undefined);
          }
        } finally {
          // The observation is over locally even when the peer did not answer the cancel.
          s.handlers.onEnd?.('cancelled', res);
        }
        return res;
      },
    };
  }

  private endObservation(s: ObservationState): void {
    s.expiry?.cancel();
    s.expiry = undefined;
    if (this.observations.get(s.tokenHex) === s) this.observations.delete(s.tokenHex);
  }

  /** Max-Age expiry (RFC 7641 §3.3.1): no fresh notification within Max-Age + grace ends the observation. */
  private armExpiry(s: ObservationState, msg: CoapMessage): void {
    s.expiry?.cancel();
    s.expiry = undefined;
    const mode = this.limits.observeExpiry;
    if (mode === 'never') return;
    const o = getOption(msg.options, O.MaxAge);
    if (!o && mode === 'explicit') return;
    const maxAge = o ? decodeUint(o.value) : 60;
    s.expiry = this.scheduler.setTimeout(() => {
      s.expiry = undefined;
      if (this.observations.get(s.tokenHex) !== s) return;
      this.endObservation(s);
      s.handlers.onEnd?.('expired');
    }, maxAge * 1000 + this.limits.observeGraceMs);
  }

  private onNotification(s: ObservationState, msg: CoapMessage): void {
    const now = this.scheduler.now();
    const o = getOption(msg.options, O.Observe);
    if (!isSuccessCode(msg.code)) {
      // RFC 7641 §3.2: an error response ends the observation.
      this.endObservation(s);
      s.handlers.onEnd?.('error', toClientResponse(msg));
      return;
    }
    if (!o) {
      // RFC 7641 §3.2: a response without Observe means the server dropped us.
      this.endObservation(s);
      s.handlers.onNotify(toClientResponse(msg));
      s.handlers.onEnd?.('cancelled', toClientResponse(msg));
      return;
    }
    const v2 = decodeUint(o.value);
    if (!isFresh(s.v1, s.t1, v2, now)) {
      this.counters.staleNotifications++;
      return;
    }
    s.v1 = v2;
    s.t1 = now;
    this.counters.notifications++;
    this.armExpiry(s, msg);
    const b = getOption(msg.options, O.Block2);
    const block = b ? decodeBlock(b.value) : undefined;
    if (!block?.more) {
      const res = toClientResponse(msg);
      // Keep order with a notification still fetching its blocks.
      s.chain = s.chain.then(() => this.deliver(s, res));
      return;
    }
    // RFC 7959 §2.6: the rest of a large notification is fetched with plain GETs.
    const opts = requestOptions(s.request);
    const deadline = now + (s.request.timeoutMs ?? this.limits.requestTimeoutMs);
    const full = this.followBlock2(s.peer, 'CON', METHOD_CODES.GET, opts, () => this.random.bytes(this.limits.tokenLength), EMPTY, msg, deadline, undefined);
    s.chain = s.chain.then(() =>
      full.then(
        (res) => this.deliver(s, res),
        (err: unknown) => this.logger.debug({ err }, 'block-wise notification failed'),
      ),
    );
  }

  private deliver(s: ObservationState, res: ClientResponse): void {
    if (this.observations.get(s.tokenHex) !== s) return;
    try {
      s.handlers.onNotify(res);
    } catch (err) {
      this.logger.warn({ err }, 'onNotify failed');
    }
  }

  // ---------------------------------------------------------------- server-side Observe

  /**
   * Sends one notification of a server-side observation (RFC 7641 §4.2): the response with
   * Observe = `seq` and the observer's token. A CON notification resolves 'acked', 'reset'
   * (the client stopped observing, §3.6) or 'timeout'; a NON one resolves 'sent' at once and a
   * later RST is reported through `hooks.onNotificationReset`. Bodies over the block size are
   * sent as the first Block2 block (§2.6 of RFC 7959: the client fetches the rest with GETs).
   */
  notify(
    peer: PeerAddress,
    token: Uint8Array,
    seq: number,
    res: OutgoingResponse,
    opts: { confirmable?: boolean } = {},
  ): Promise<'acked' | 'reset' | 'timeout' | 'sent'> {
    if (this.closed) return Promise.reject(CoapErrors.closed());
    const options: CoapOption[] = [uintOption(O.Observe, seq & 0xffffff)];
    if (res.etag) options.push({ number: O.ETag, value: res.etag });
    if (res.contentFormat !== undefined) options.push(uintOption(O.ContentFormat, res.contentFormat));
    if (res.maxAge !== undefined) options.push(uintOption(O.MaxAge, res.maxAge));
    if (res.options) options.push(...res.options);
    let payload = res.payload ?? EMPTY;
    const size = blockSize(this.ourSzx);
    if (payload.length > size) {
      options.push({ number: O.Block2, value: encodeBlock({ num: 0, more: true, szx: this.ourSzx }) });
      options.push(uintOption(O.Size2, payload.length));
      payload = payload.subarray(0, size);
    }
    const msg: CoapMessage = { type: opts.confirmable ? 'CON' : 'NON', code: res.code, messageId: 0, token, options, payload };
    const out: LayerAction[] = [];
    if (!opts.confirmable) {
      const mid = this.layer.sendNon(msg, peer, out);
      this.nonNotifications.set(mid, { peer, token });
      this.apply(out);
      return Promise.resolve('sent');
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { acked: () => resolve('acked'), reset: () => resolve('reset'), failed: () => resolve('timeout') };
      try {
        this.layer.send(msg, peer, this.scheduler.now(), out, w);
      } catch (err) {
        reject(err);
        return;
      }
      this.apply(out);
    });
  }

  // ---------------------------------------------------------------- misc

  /** RFC 7252 §4.3: CoAP ping (Empty CON, expects RST). Resolves true when the peer answered. */
  ping(peer: PeerAddress): Promise<boolean> {
    return new Promise((resolve) => {
      const w: Waiter = { acked: () => resolve(true), reset: () => resolve(true), failed: () => resolve(false) };
      const out: LayerAction[] = [];
      try {
        this.layer.send(
          { type: 'CON', code: '0.00', messageId: 0, token: EMPTY, options: [], payload: EMPTY },
          peer,
          this.scheduler.now(),
          out,
          w,
        );
      } catch {
        return resolve(false);
      }
      this.apply(out);
    });
  }
}
