/**
 * The client role of an endpoint: requests with piggybacked or separate responses, Block1
 * sending and Block2 reassembly (RFC 7959), deadlines and AbortSignal, CoAP ping, and the
 * routing of CON/NON responses to the exchange or observation waiting for them.
 */
import { type Datagram, type PeerAddress, type TimerHandle, concatBytes, toHex } from '@m2mhub/core';
import type { ClientRequest, ClientResponse, CoapMessage, CoapOption } from './api';
import { blockSize, decodeBlock, encodeBlock } from './block';
import { METHOD_CODES, isSuccessCode } from './codes';
import { EMPTY, type EndpointContext, type Waiter } from './endpoint-context';
import { CoapErrors } from './errors';
import type { ExchangeKey, LayerAction, OutboundExchange } from './message-layer';
import { OptionNumber as O, decodeUint, getOption, pathSegments, stringOption, uintOption } from './options';

const REQUEST_BLOCK_OPTIONS: readonly number[] = [O.Block1, O.Block2, O.Size1, O.Size2, O.Observe];

interface PendingRequest extends Waiter {
  peer: PeerAddress;
  /** Completes the exchange with a response (piggybacked or separate). */
  complete(msg: CoapMessage): void;
  /** Fails the exchange (closed, cancelled). */
  abort(err: Error): void;
  ex: OutboundExchange | undefined;
}

/** Where notifications go: the Observe client (observe-client.ts). */
export interface NotificationSink {
  /** True when `tokenHex` is a live observation (the notification is then ACKed and handed to `notify`). */
  has(tokenHex: string): boolean;
  notify(tokenHex: string, msg: CoapMessage): void;
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

export class ClientRole {
  readonly pending = new Map<string, PendingRequest>();
  sink: NotificationSink | undefined;

  constructor(private readonly ctx: EndpointContext) {}

  /** Fails every request in flight (endpoint closing). */
  abortAll(err: Error): void {
    for (const p of [...this.pending.values()]) p.abort(err);
    this.pending.clear();
  }

  /** Sends a request and resolves with the response, Block2 reassembled; Block1 used when the payload is large. */
  async request(peer: PeerAddress, req: ClientRequest): Promise<ClientResponse> {
    if (this.ctx.isClosed()) throw CoapErrors.closed();
    const deadline = this.ctx.scheduler.now() + (req.timeoutMs ?? this.ctx.limits.requestTimeoutMs);
    const code = METHOD_CODES[req.method];
    if (!code) throw CoapErrors.invalidRequest(`method ${req.method}`);
    const options = requestOptions(req);
    const token = req.token ?? this.ctx.random.bytes(this.ctx.limits.tokenLength);
    const type = req.confirmable === false ? 'NON' : 'CON';
    const payload = req.payload ?? EMPTY;
    let first: CoapMessage;
    if (payload.length > blockSize(this.ctx.ourSzx)) {
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
    let szx = this.ctx.ourSzx;
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
  async followBlock2(
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
      if (received - start + res.payload.length > this.ctx.limits.maxBodySize) {
        throw CoapErrors.bodyTooLarge(`over ${this.ctx.limits.maxBodySize}`);
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
  exchange(
    peer: PeerAddress,
    msg: CoapMessage,
    deadline: number,
    signal: AbortSignal | undefined,
    onResponse?: (msg: CoapMessage) => void,
  ): Promise<CoapMessage> {
    return new Promise<CoapMessage>((resolve, reject) => {
      if (this.ctx.isClosed()) return reject(CoapErrors.closed());
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
          this.ctx.layer.cancel(p.ex, out);
          this.ctx.apply(out);
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
            this.ctx.layer.cancel(p.ex, out);
            this.ctx.apply(out);
          }
          onResponse?.(res);
          resolve(res);
        },
        acked: (ack) => {
          // An Empty ACK: the response comes separately (RFC 7252 §5.2.2). A piggybacked
          // response must carry our token (§5.3.2); one that does not only acknowledges.
          if (ack.code === '0.00') return;
          if (toHex(ack.token) === tokenHex) p.complete(ack);
          else this.ctx.counters.unmatchedResponses++;
        },
        abort: fail,
        reset: () => fail(CoapErrors.reset()),
        failed: () => fail(CoapErrors.timeout('no ACK after MAX_RETRANSMIT')),
      };
      this.pending.set(tokenHex, p);
      timer = this.ctx.scheduler.setTimeout(() => fail(CoapErrors.timeout()), Math.max(0, deadline - this.ctx.scheduler.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      const out: LayerAction[] = [];
      try {
        p.ex = this.ctx.layer.send(msg, peer, this.ctx.scheduler.now(), out, p);
      } catch (err) {
        finish();
        return reject(err);
      }
      this.ctx.apply(out);
    });
  }

  /** Separate responses and notifications (CON/NON messages carrying a response code). */
  onResponse(key: ExchangeKey, msg: CoapMessage, d: Datagram): void {
    const tokenHex = toHex(msg.token);
    const p = this.pending.get(tokenHex);
    if (p && p.peer.port === d.peer.port && p.peer.address === d.peer.address) {
      this.acceptResponse(key, msg, d, true);
      p.complete(msg);
      return;
    }
    if (this.sink?.has(tokenHex)) {
      this.acceptResponse(key, msg, d, true);
      this.sink.notify(tokenHex, msg);
      return;
    }
    this.ctx.counters.unmatchedResponses++;
    const res = toClientResponse(msg);
    let accept = false;
    const hooks = this.ctx.hooks();
    if (res.observe !== undefined && hooks.onUnmatchedNotification) {
      try {
        accept = hooks.onUnmatchedNotification(res, d.peer, d.peerKey, d.identity);
      } catch (err) {
        this.ctx.logger.warn({ err }, 'onUnmatchedNotification failed');
      }
    }
    // RFC 7641 §3.6: a notification nobody wants is answered with RST.
    this.acceptResponse(key, msg, d, accept);
  }

  private acceptResponse(key: ExchangeKey, msg: CoapMessage, d: Datagram, accept: boolean): void {
    const out: LayerAction[] = [];
    this.ctx.layer.acceptResponse(key, msg, d.peer, accept, out);
    this.ctx.apply(out);
  }

  /** RFC 7252 §4.3: CoAP ping (Empty CON, expects RST). Resolves true when the peer answered. */
  ping(peer: PeerAddress): Promise<boolean> {
    return new Promise((resolve) => {
      const w: Waiter = { acked: () => resolve(true), reset: () => resolve(true), failed: () => resolve(false) };
      const out: LayerAction[] = [];
      try {
        this.ctx.layer.send(
          { type: 'CON', code: '0.00', messageId: 0, token: EMPTY, options: [], payload: EMPTY },
          peer,
          this.ctx.scheduler.now(),
          out,
          w,
        );
      } catch {
        return resolve(false);
      }
      this.ctx.apply(out);
    });
  }
}
