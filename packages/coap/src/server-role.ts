/**
 * The server role of an endpoint: routes requests to handlers, reassembles Block1 bodies,
 * serves large bodies by Block2 (RFC 7959), answers piggybacked or separately (RFC 7252 §5.2),
 * and sends notifications of server-side observations (RFC 7641 §4).
 */
import { type Datagram, type PeerAddress, type TimerHandle, concatBytes, isM2MError } from '@m2mhub/core';
import { LRUCache } from 'lru-cache';
import type { CoapMessage, CoapOption, IncomingRequest, OutgoingResponse, RequestHandler } from './api';
import { type BlockValue, blockSize, decodeBlock, encodeBlock } from './block';
import { methodOf } from './codes';
import { EMPTY, type EndpointContext, type Waiter } from './endpoint-context';
import { CoapErrors } from './errors';
import type { ExchangeKey, LayerAction } from './message-layer';
import { OptionNumber as O, decodeUint, firstUnrecognisedCritical, fromUtf8, stringOption, uintOption, utf8 } from './options';
import { Router } from './router';
import { TransferStore } from './transfers';

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

/** How a notification ended: ACKed, RST by the client, unanswered, or sent as NON. */
export type NotifyOutcome = 'acked' | 'reset' | 'timeout' | 'sent';

export class ServerRole {
  readonly router = new Router();
  fallbackHandler: RequestHandler = () => ({ code: '4.04' });
  readonly transfers: TransferStore;
  pendingRequests = 0;
  /** NON notifications recently sent, by Message ID, to recognise the RST that cancels them. */
  private readonly nonNotifications: LRUCache<number, { peer: PeerAddress; token: Uint8Array }>;

  constructor(private readonly ctx: EndpointContext) {
    this.transfers = new TransferStore(ctx.limits.maxConcurrentTransfers, ctx.limits.transferExpiryMs);
    this.nonNotifications = new LRUCache({ max: ctx.limits.maxObservations });
  }

  /** An RST matching no outstanding CON: maybe the client dropping a NON notification (RFC 7641 §3.6). */
  onStrayReset(messageId: number, d: Datagram): void {
    const n = this.nonNotifications.get(messageId);
    if (n && n.peer.port === d.peer.port && n.peer.address === d.peer.address) {
      this.nonNotifications.delete(messageId);
      this.ctx.hooks().onNotificationReset?.(n.peer, n.token);
    }
  }

  private reply(key: ExchangeKey, req: CoapMessage, d: Datagram, res: Omit<CoapMessage, 'type' | 'messageId'>): void {
    const out: LayerAction[] = [];
    try {
      this.ctx.layer.respond(key, req, d.peer, res, this.ctx.scheduler.now(), out);
    } catch (err) {
      // A separate response over the exchange limits is dropped; the client will retry.
      this.ctx.logger.debug({ err }, 'coap response not sent');
    }
    this.ctx.apply(out);
  }

  private replyCode(key: ExchangeKey, req: CoapMessage, d: Datagram, code: string, options: CoapOption[] = [], diag?: string): void {
    this.reply(key, req, d, { code, token: req.token, options, payload: diag ? utf8(diag) : EMPTY });
  }

  onRequest(key: ExchangeKey, msg: CoapMessage, d: Datagram): void {
    const method = methodOf(msg.code);
    // RFC 7252 §5.8: an unknown method code is answered 4.05.
    if (!method) {
      this.replyCode(key, msg, d, '4.05');
      return;
    }
    // RFC 7252 §5.4.1: an unrecognised critical option in a CON/NON request gets 4.02.
    const bad = firstUnrecognisedCritical(msg.options);
    if (bad !== undefined) {
      this.ctx.counters.badOptions++;
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
      this.ctx.counters.badOptions++;
      this.replyCode(key, msg, d, '4.02', [], 'malformed block option');
      return;
    }
    const max = this.ctx.limits.maxBodySize;
    // RFC 7959 §4: Size1 announces the body size; refuse early with 4.13 + Size1.
    if (v.size1 !== undefined && v.size1 > max) {
      this.replyCode(key, msg, d, '4.13', [uintOption(O.Size1, max)]);
      return;
    }
    // Block-wise state is keyed by peer, method and URI (key and time taken only when blocks are involved).
    const blocks = v.block1 !== undefined || v.block2 !== undefined;
    const uriKey = blocks ? uriKeyOf(d, msg, v) : undefined;
    const now = blocks ? this.ctx.scheduler.now() : 0;
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
    if (this.pendingRequests >= this.ctx.limits.maxPendingRequests) {
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
    this.ctx.counters.requestsHandled++;
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
      timer = this.ctx.scheduler.setTimeout(() => {
        timer = undefined;
        const out: LayerAction[] = [];
        this.ctx.layer.ackEmpty(key, msg, d.peer, out);
        this.ctx.apply(out);
      }, this.ctx.limits.separateResponseDelayMs);
    }
    result
      .catch((err: unknown) => this.errorResponse(err))
      .then((res) => {
        this.pendingRequests--;
        timer?.cancel();
        if (!this.ctx.isClosed()) this.sendResponse(key, msg, d, v, uriKey, res, block1Ack);
      })
      .catch((err: unknown) => this.ctx.logger.warn({ err }, 'coap response failed'));
  }

  private errorResponse(err: unknown): OutgoingResponse {
    this.ctx.counters.handlerErrors++;
    if (isM2MError(err) && err.wire.coap) return { code: err.wire.coap, payload: utf8(err.message) };
    this.ctx.logger.warn({ err }, 'coap handler failed');
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
    const ackSzx = Math.min(b.szx, this.ctx.ourSzx);
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
    if (t.received + data.length > this.ctx.limits.maxBodySize) {
      this.transfers.endBlock1(uriKey);
      this.replyCode(key, msg, d, '4.13', [uintOption(O.Size1, this.ctx.limits.maxBodySize)]);
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
    const szx = v.block2 ? Math.min(v.block2.szx, this.ctx.ourSzx) : this.ctx.ourSzx;
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
    const szx = v.block2 ? Math.min(v.block2.szx, this.ctx.ourSzx) : this.ctx.ourSzx;
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
      this.transfers.putBlock2(uriKey ?? uriKeyOf(d, msg, v), { code, body, etag, options }, this.ctx.scheduler.now());
    }
    this.reply(key, msg, d, { code, token: msg.token, options: opts, payload: body.subarray(offset, offset + size) });
  }


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
  ): Promise<NotifyOutcome> {
    if (this.ctx.isClosed()) return Promise.reject(CoapErrors.closed());
    const options: CoapOption[] = [uintOption(O.Observe, seq & 0xffffff)];
    if (res.etag) options.push({ number: O.ETag, value: res.etag });
    if (res.contentFormat !== undefined) options.push(uintOption(O.ContentFormat, res.contentFormat));
    if (res.maxAge !== undefined) options.push(uintOption(O.MaxAge, res.maxAge));
    if (res.options) options.push(...res.options);
    let payload = res.payload ?? EMPTY;
    const size = blockSize(this.ctx.ourSzx);
    if (payload.length > size) {
      options.push({ number: O.Block2, value: encodeBlock({ num: 0, more: true, szx: this.ctx.ourSzx }) });
      options.push(uintOption(O.Size2, payload.length));
      payload = payload.subarray(0, size);
    }
    const msg: CoapMessage = { type: opts.confirmable ? 'CON' : 'NON', code: res.code, messageId: 0, token, options, payload };
    const out: LayerAction[] = [];
    if (!opts.confirmable) {
      const mid = this.ctx.layer.sendNon(msg, peer, out);
      this.nonNotifications.set(mid, { peer, token });
      this.ctx.apply(out);
      return Promise.resolve('sent');
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { acked: () => resolve('acked'), reset: () => resolve('reset'), failed: () => resolve('timeout') };
      try {
        this.ctx.layer.send(msg, peer, this.ctx.scheduler.now(), out, w);
      } catch (err) {
        reject(err);
        return;
      }
      this.ctx.apply(out);
    });
  }
}
