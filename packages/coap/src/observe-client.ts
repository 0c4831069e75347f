/** The Observe client (RFC 7641): registration, notifications in order, Max-Age expiry, cancel. */
import { type PeerAddress, type TimerHandle, toHex } from '@m2mhub/core';
import type { ClientRequest, ClientResponse, CoapMessage, Observation, ObserveHandlers } from './api';
import { type ClientRole, type NotificationSink, requestOptions, toClientResponse } from './client-role';
import { METHOD_CODES, isSuccessCode } from './codes';
import { EMPTY, type EndpointContext } from './endpoint-context';
import { CoapErrors } from './errors';
import { isFresh } from './observe';
import { decodeBlock } from './block';
import { OptionNumber as O, decodeUint, getOption, uintOption } from './options';

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

export class ObserveClient implements NotificationSink {
  private readonly observations = new Map<string, ObservationState>();

  constructor(
    private readonly ctx: EndpointContext,
    private readonly client: ClientRole,
  ) {}

  get size(): number {
    return this.observations.size;
  }

  has(tokenHex: string): boolean {
    return this.observations.has(tokenHex);
  }

  notify(tokenHex: string, msg: CoapMessage): void {
    const s = this.observations.get(tokenHex);
    if (s) this.onNotification(s, msg);
  }

  /** Drops every observation without onEnd: their owner may restore them after a restart. */
  clear(): void {
    for (const o of this.observations.values()) o.expiry?.cancel();
    this.observations.clear();
  }

  /** Registers an observation (GET with Observe=0) and resolves once the first response is in. */
  async observe(peer: PeerAddress, req: ClientRequest, handlers: ObserveHandlers): Promise<Observation> {
    if (this.ctx.isClosed()) throw CoapErrors.closed();
    if (this.observations.size >= this.ctx.limits.maxObservations) throw CoapErrors.tooManyExchanges('observations');
    const deadline = this.ctx.scheduler.now() + (req.timeoutMs ?? this.ctx.limits.requestTimeoutMs);
    const token = req.token ?? this.ctx.random.bytes(this.ctx.limits.tokenLength);
    const tokenHex = toHex(token);
    const options = requestOptions({ ...req, options: [uintOption(O.Observe, 0), ...(req.options ?? [])] });
    const code = METHOD_CODES[req.method];
    const type = req.confirmable === false ? 'NON' : 'CON';
    const msg: CoapMessage = { type, code, messageId: 0, token, options, payload: req.payload ?? EMPTY };
    let state: ObservationState | undefined;
    const first = await this.client.exchange(peer, msg, deadline, req.signal, (res) => {
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
        t1: this.ctx.scheduler.now(),
        expiry: undefined,
        chain: Promise.resolve(),
      };
      this.observations.set(tokenHex, state);
      this.armExpiry(state, res);
    });
    const firstRes = await this.client.followBlock2(
      peer,
      type,
      code,
      options,
      () => this.ctx.random.bytes(this.ctx.limits.tokenLength),
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
            const deadline2 = this.ctx.scheduler.now() + (req.timeoutMs ?? this.ctx.limits.requestTimeoutMs);
            const r = await this.client.exchange(peer, cancelMsg, deadline2, undefined);
            const tokens = () => this.ctx.random.bytes(this.ctx.limits.tokenLength);
            res = await this.client.followBlock2(peer, 'CON', code, opts, tokens, msg.payload, r, deadline2, undefined);
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
    const mode = this.ctx.limits.observeExpiry;
    if (mode === 'never') return;
    const o = getOption(msg.options, O.MaxAge);
    if (!o && mode === 'explicit') return;
    const maxAge = o ? decodeUint(o.value) : 60;
    s.expiry = this.ctx.scheduler.setTimeout(() => {
      s.expiry = undefined;
      if (this.observations.get(s.tokenHex) !== s) return;
      this.endObservation(s);
      s.handlers.onEnd?.('expired');
    }, maxAge * 1000 + this.ctx.limits.observeGraceMs);
  }

  private onNotification(s: ObservationState, msg: CoapMessage): void {
    const now = this.ctx.scheduler.now();
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
      this.ctx.counters.staleNotifications++;
      return;
    }
    s.v1 = v2;
    s.t1 = now;
    this.ctx.counters.notifications++;
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
    const deadline = now + (s.request.timeoutMs ?? this.ctx.limits.requestTimeoutMs);
    const full = this.client.followBlock2(s.peer, 'CON', METHOD_CODES.GET, opts, () => this.ctx.random.bytes(this.ctx.limits.tokenLength), EMPTY, msg, deadline, undefined);
    s.chain = s.chain.then(() =>
      full.then(
        (res) => this.deliver(s, res),
        (err: unknown) => this.ctx.logger.debug({ err }, 'block-wise notification failed'),
      ),
    );
  }

  private deliver(s: ObservationState, res: ClientResponse): void {
    if (this.observations.get(s.tokenHex) !== s) return;
    try {
      s.handlers.onNotify(res);
    } catch (err) {
      this.ctx.logger.warn({ err }, 'onNotify failed');
    }
  }
}
