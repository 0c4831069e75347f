/**
 * The CoAP message layer (RFC 7252 §4) as a state machine: it takes events (a datagram,
 * a timer firing, a message to send) plus the current time, and appends actions (send bytes,
 * arm/cancel a timer, deliver a request or response upward). It owns no socket and no timer.
 *
 * It does: message-format rejection (§4.2 RST on a malformed CON), CoAP ping (§4.3),
 * deduplication keyed by peer + Message ID with response replay for EXCHANGE_LIFETIME
 * (§4.5), CON retransmission with exponential back-off (§4.2), NSTART (§4.7), and bounds on
 * outstanding exchanges per peer and in total.
 */
import { type Datagram, type PeerAddress, type Random, peerKeyOf } from '@m2mhub/core';
import type { CoapMessage } from './api';
import { type ResponseParts, emptyMessage, encodeMessage, parseHeader, parseMessage, serializeMessage } from './codec';
import { isRequestCode, isResponseCode } from './codes';
import { type DedupKey, DedupTable } from './dedup';
import { CoapErrors } from './errors';
import type { CoapLimits, DerivedParameters } from './params';

/** A confirmable message we sent and wait an ACK/RST for. */
export interface OutboundExchange {
  readonly peer: PeerAddress;
  readonly addrKey: string;
  messageId: number;
  readonly msg: CoapMessage;
  data: Uint8Array;
  retransmits: number;
  timeoutMs: number;
  timerId: number;
  state: 'queued' | 'active' | 'done';
  /** Owner context (the client exchange waiting on this message). */
  tag: unknown;
}

export type LayerAction =
  | { t: 'send'; data: Uint8Array; peer: PeerAddress }
  | { t: 'timer'; id: number; delayMs: number }
  | { t: 'cancel'; id: number }
  /** A new (non-duplicate) request; answer it with `respond(key, ...)`. */
  | { t: 'request'; key: ExchangeKey; msg: CoapMessage; d: Datagram }
  /** A CON/NON response (separate response or notification); answer with `acceptResponse`. */
  | { t: 'response'; key: ExchangeKey; msg: CoapMessage; d: Datagram }
  /** Our CON was acknowledged; `msg` is the ACK (Empty, or a piggybacked response). */
  | { t: 'acked'; ex: OutboundExchange; msg: CoapMessage; d: Datagram }
  | { t: 'reset'; ex: OutboundExchange; d: Datagram }
  /** Gave up after MAX_RETRANSMIT retransmissions (RFC 7252 §4.2). */
  | { t: 'failed'; ex: OutboundExchange }
  /** RST matching no outstanding CON (e.g. a reset NON notification). */
  | { t: 'stray-reset'; messageId: number; d: Datagram };

/** Identifies a received message to answer (its deduplication entry; opaque to callers). */
export type ExchangeKey = DedupKey;

interface PeerState {
  active: number;
  queued: OutboundExchange[];
  total: number;
}

export interface LayerStats {
  received: number;
  sent: number;
  formatErrors: number;
  oversized: number;
  rstSent: number;
  pings: number;
  duplicates: number;
  retransmissions: number;
  transmitTimeouts: number;
  unmatchedAcks: number;
  dropped: number;
}

export class MessageLayer {
  private readonly dedup: DedupTable;
  private readonly outstanding = new Map<number, OutboundExchange>();
  private readonly timers = new Map<number, OutboundExchange>();
  private readonly peers = new Map<string, PeerState>();
  private nextMid: number;
  private nextTimer = 1;
  private total = 0;
  readonly stats: LayerStats = {
    received: 0,
    sent: 0,
    formatErrors: 0,
    oversized: 0,
    rstSent: 0,
    pings: 0,
    duplicates: 0,
    retransmissions: 0,
    transmitTimeouts: 0,
    unmatchedAcks: 0,
    dropped: 0,
  };

  constructor(
    private readonly params: DerivedParameters,
    private readonly limits: CoapLimits,
    private readonly random: Random,
    private readonly onActivity?: (d: Datagram, msg: CoapMessage) => void,
  ) {
    this.dedup = new DedupTable(limits.dedupCacheSize);
    this.nextMid = random.int(0x10000);
  }

  get dedupSize(): number {
    return this.dedup.size;
  }

  get exchangeCount(): number {
    return this.total;
  }

  get outstandingCount(): number {
    return this.outstanding.size;
  }

  private mid(): number {
    const m = this.nextMid;
    this.nextMid = (m + 1) & 0xffff;
    return m;
  }

  private emit(out: LayerAction[], data: Uint8Array, peer: PeerAddress): void {
    this.stats.sent++;
    out.push({ t: 'send', data, peer });
  }

  /** Event: a datagram arrived. */
  receive(d: Datagram, now: number, out: LayerAction[]): void {
    const data = d.data;
    if (data.length > this.limits.maxMessageSize) {
      this.stats.oversized++;
      return;
    }
    let msg: CoapMessage;
    try {
      msg = parseMessage(data, this.limits);
    } catch {
      this.stats.formatErrors++;
      const h = parseHeader(data);
      // RFC 7252 §4.2: a CON with a message format error is rejected with RST; §4.3 NON ignored.
      // §3: a message with an unknown version is silently ignored.
      if (h && h.version === 1 && h.type === 'CON') {
        this.stats.rstSent++;
        this.emit(out, emptyMessage('RST', h.messageId), d.peer);
      }
      return;
    }
    this.stats.received++;
    this.onActivity?.(d, msg);
    const code = msg.code;
    switch (msg.type) {
      case 'ACK':
      case 'RST': {
        if (msg.type === 'RST' && code !== '0.00') {
          this.stats.formatErrors++;
          return;
        }
        if (msg.type === 'ACK' && isRequestCode(code)) {
          this.stats.formatErrors++;
          return;
        }
        const ex = this.outstanding.get(msg.messageId);
        if (!ex || ex.peer.port !== d.peer.port || ex.peer.address !== d.peer.address) {
          if (msg.type === 'RST') out.push({ t: 'stray-reset', messageId: msg.messageId, d });
          else this.stats.unmatchedAcks++;
          return;
        }
        this.finish(ex, out);
        out.push(msg.type === 'ACK' ? { t: 'acked', ex, msg, d } : { t: 'reset', ex, d });
        return;
      }
      default: {
        const con = msg.type === 'CON';
        if (code === '0.00') {
          // RFC 7252 §4.3: an Empty CON is a ping, answered with RST. An Empty NON is ignored.
          if (con) {
            this.stats.pings++;
            this.stats.rstSent++;
            this.emit(out, emptyMessage('RST', msg.messageId), d.peer);
          } else this.stats.dropped++;
          return;
        }
        const request = isRequestCode(code);
        if (!request && !isResponseCode(code)) {
          // Reserved classes 1, 6, 7: rejected (RST for a CON, §4.2; silently for a NON, §4.3).
          this.stats.dropped++;
          if (con) {
            this.stats.rstSent++;
            this.emit(out, emptyMessage('RST', msg.messageId), d.peer);
          }
          return;
        }
        // RFC 7252 §4.5: deduplicate by peer + Message ID; replay the reply already sent.
        const key = this.dedup.open(d.peerKey, msg.messageId, now, con ? this.params.exchangeLifetimeMs : this.params.nonLifetimeMs);
        const dedup = this.dedup;
        if (dedup.hits(key) > 0) {
          this.stats.duplicates++;
          const reply = dedup.reply(key);
          if (reply) this.emit(out, reply, d.peer);
          else if (dedup.emptyAcked(key)) this.emit(out, emptyMessage('ACK', msg.messageId), d.peer);
          return;
        }
        out.push(request ? { t: 'request', key, msg, d } : { t: 'response', key, msg, d });
      }
    }
  }

  /**
   * Answers a request delivered by `receive`. A CON not yet acknowledged gets a piggybacked
   * response (§5.2.1); after an empty ACK the response goes as a new CON (§5.2.2); a NON
   * request gets a NON response (§5.2.3). Returns the exchange of a separate CON response.
   */
  respond(
    key: ExchangeKey,
    request: CoapMessage,
    peer: PeerAddress,
    response: ResponseParts,
    now: number,
    out: LayerAction[],
  ): OutboundExchange | undefined {
    const { code, token, options, payload } = response;
    if (request.type === 'CON' && !this.dedup.emptyAcked(key)) {
      const data = encodeMessage('ACK', code, request.messageId, token, options, payload);
      this.dedup.setReply(key, data);
      this.emit(out, data, peer);
      return undefined;
    }
    if (request.type === 'CON') {
      return this.send({ type: 'CON', code, messageId: 0, token, options, payload }, peer, now, out, undefined);
    }
    const data = encodeMessage('NON', code, this.mid(), token, options, payload);
    this.dedup.setReply(key, data);
    this.emit(out, data, peer);
    return undefined;
  }

  /** RFC 7252 §5.2.2: acknowledge a CON request now, the response will follow separately. */
  ackEmpty(key: ExchangeKey, request: CoapMessage, peer: PeerAddress, out: LayerAction[]): void {
    if (request.type !== 'CON') return;
    if (this.dedup.hasReply(key) || this.dedup.emptyAcked(key)) return;
    this.dedup.setEmptyAcked(key);
    this.emit(out, emptyMessage('ACK', request.messageId), peer);
  }

  /** Answers a CON/NON response: ACK when accepted, RST when rejected (RFC 7252 §4.2, §4.3; RFC 7641 §3.6). */
  acceptResponse(key: ExchangeKey, msg: CoapMessage, peer: PeerAddress, accept: boolean, out: LayerAction[]): void {
    if (accept && msg.type !== 'CON') return;
    const data = emptyMessage(accept ? 'ACK' : 'RST', msg.messageId);
    if (!accept) this.stats.rstSent++;
    this.dedup.setEmptyReply(key, accept ? 'ACK' : 'RST');
    this.emit(out, data, peer);
  }

  /**
   * Sends a message. CON messages get a Message ID, retransmission and NSTART queuing, and
   * count against the exchange limits (M2M_COAP_TOO_MANY_EXCHANGES when full); others go out
   * at once. `msg.messageId` is assigned here for CON and NON.
   */
  send(msg: CoapMessage, peer: PeerAddress, now: number, out: LayerAction[], tag: unknown): OutboundExchange | undefined {
    void now;
    if (msg.type !== 'CON') {
      if (msg.type === 'NON') this.sendNon(msg, peer, out);
      else this.emit(out, serializeMessage(msg), peer);
      return undefined;
    }
    const addrKey = peerKeyOf(peer);
    let ps = this.peers.get(addrKey);
    if (this.total >= this.limits.maxExchanges) throw CoapErrors.tooManyExchanges(`${this.total} in total`);
    if (ps && ps.total >= this.limits.maxExchangesPerPeer) {
      throw CoapErrors.tooManyExchanges(`${ps.total} with ${addrKey}`);
    }
    if (!ps) {
      ps = { active: 0, queued: [], total: 0 };
      this.peers.set(addrKey, ps);
    }
    const messageId = this.mid();
    const m = { ...msg, messageId };
    const ex: OutboundExchange = {
      peer,
      addrKey,
      messageId,
      msg: m,
      data: serializeMessage(m),
      retransmits: 0,
      timeoutMs: 0,
      timerId: 0,
      state: 'queued',
      tag,
    };
    ps.total++;
    this.total++;
    // RFC 7252 §4.7: at most NSTART outstanding interactions per peer; the rest wait.
    if (ps.active < this.params.nstart) this.transmit(ex, ps, out);
    else ps.queued.push(ex);
    return ex;
  }

  /** Sends a NON message with a fresh Message ID and returns that ID (to match a later RST). */
  sendNon(msg: CoapMessage, peer: PeerAddress, out: LayerAction[]): number {
    const messageId = this.mid();
    this.emit(out, serializeMessage({ ...msg, type: 'NON', messageId }), peer);
    return messageId;
  }

  private transmit(ex: OutboundExchange, ps: PeerState, out: LayerAction[]): void {
    ps.active++;
    ex.state = 'active';
    this.outstanding.set(ex.messageId, ex);
    // RFC 7252 §4.2: initial timeout random in [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR).
    const p = this.params;
    ex.timeoutMs = p.ackTimeoutMs * (1 + this.random.float() * (p.ackRandomFactor - 1));
    this.arm(ex, out);
    this.emit(out, ex.data, ex.peer);
  }

  private arm(ex: OutboundExchange, out: LayerAction[]): void {
    const id = this.nextTimer++;
    ex.timerId = id;
    this.timers.set(id, ex);
    out.push({ t: 'timer', id, delayMs: ex.timeoutMs });
  }

  /** Event: a timer armed by a `timer` action fired. */
  timer(id: number, now: number, out: LayerAction[]): void {
    void now;
    const ex = this.timers.get(id);
    if (!ex) return;
    this.timers.delete(id);
    if (ex.state !== 'active') return;
    if (ex.retransmits < this.params.maxRetransmit) {
      // RFC 7252 §4.2: retransmit and double the timeout.
      ex.retransmits++;
      ex.timeoutMs *= 2;
      this.stats.retransmissions++;
      this.arm(ex, out);
      this.emit(out, ex.data, ex.peer);
      return;
    }
    this.stats.transmitTimeouts++;
    this.finish(ex, out);
    out.push({ t: 'failed', ex });
  }

  /** Stops retransmitting (request cancelled or answered by other means). */
  cancel(ex: OutboundExchange, out: LayerAction[]): void {
    if (ex.state === 'done') return;
    this.finish(ex, out);
  }

  private finish(ex: OutboundExchange, out: LayerAction[]): void {
    const wasActive = ex.state === 'active';
    const ps = this.peers.get(ex.addrKey);
    if (ex.state === 'queued' && ps) {
      const i = ps.queued.indexOf(ex);
      if (i >= 0) ps.queued.splice(i, 1);
    }
    ex.state = 'done';
    if (wasActive) {
      this.outstanding.delete(ex.messageId);
      if (this.timers.delete(ex.timerId)) out.push({ t: 'cancel', id: ex.timerId });
    }
    this.total--;
    if (!ps) return;
    ps.total--;
    if (wasActive) ps.active--;
    const next = ps.queued.shift();
    if (next) this.transmit(next, ps, out);
    else if (ps.total === 0) this.peers.delete(ex.addrKey);
  }

  /** Forgets everything and cancels all timers (endpoint closing). Returns the exchanges dropped. */
  clear(out: LayerAction[]): OutboundExchange[] {
    const all: OutboundExchange[] = [...this.outstanding.values()];
    for (const ps of this.peers.values()) all.push(...ps.queued);
    for (const id of this.timers.keys()) out.push({ t: 'cancel', id });
    this.timers.clear();
    this.outstanding.clear();
    this.peers.clear();
    this.dedup.clear();
    this.total = 0;
    for (const ex of all) ex.state = 'done';
    return all;
  }
}
