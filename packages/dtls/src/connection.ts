/**
 * One DTLS association with one peer, in either role: the record layer (epochs, sequence
 * numbers, anti-replay, protection, CID), handshake reassembly, flights and their
 * retransmission timer. The handshake logic itself lives in server-handshake / client-handshake
 * and drives this class through a narrow surface. No sockets: datagrams go out through hooks.
 */
import { createHash, type Hash } from 'node:crypto';
import type { M2MError, PeerAddress, PeerIdentity, Random, Scheduler, TimerHandle } from '@m2mhub/core';
import { AlertDescription, AlertLevel, ContentType, DTLS_1_2, HANDSHAKE_HEADER_LENGTH, RECORD_HEADER_LENGTH } from './constants';
import type { DtlsLimits } from './config';
import type { CipherBackend } from './crypto/aead';
import type { KeyBlock } from './crypto/keys';
import type { CipherSuite } from './crypto/suites';
import { alertFor, DtlsErrors } from './errors';
import { encodeHandshake, fragmentMessage, parseFragments } from './handshake/codec';
import { type HandshakeMessage, Reassembler } from './handshake/reassembler';
import { type DtlsRecord, encodeRecord, writeRecordHeader } from './record/codec';
import { createProtection, type RecordProtection } from './record/protection';
import { ReplayWindow } from './record/replay-window';

export interface ConnectionHooks {
  send(datagram: Uint8Array, peer: PeerAddress): void;
  onData(conn: Connection, data: Uint8Array): void;
  onEstablished(conn: Connection): void;
  onClosed(conn: Connection, err?: M2MError): void;
  /** An authenticated CID record arrived from a new address (RFC 9146 §6). */
  onRebind?(conn: Connection, oldPeer: PeerAddress): void;
}

/** What a handshake state machine implements. */
export interface Handshake {
  onMessage(msg: HandshakeMessage, raw: Uint8Array): void | Promise<void>;
  onChangeCipherSpec(): void;
}

export interface ConnectionContext {
  role: 'client' | 'server';
  limits: DtlsLimits;
  scheduler: Scheduler;
  random: Random;
  backend: CipherBackend;
  hooks: ConnectionHooks;
}

interface ReadEpoch {
  epoch: number;
  protection?: RecordProtection;
  window: ReplayWindow;
}

interface WriteEpoch {
  epoch: number;
  seq: number;
  protection?: RecordProtection;
}

/** One entry of a flight: a handshake message (full header) or a ChangeCipherSpec. */
export interface FlightItem {
  epoch: number;
  message?: Uint8Array;
}

interface Inbound {
  rec: DtlsRecord;
  from: PeerAddress;
}

const CCS_BODY = new Uint8Array([1]);

export function samePeer(a: PeerAddress, b: PeerAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

export class Connection {
  state: 'handshaking' | 'established' | 'closed' = 'handshaking';
  handshake: Handshake | undefined;
  identity: PeerIdentity | undefined;
  /** CID the peer puts on records to us (we issued it), and the one we put on records to the peer. */
  readCid: Uint8Array | undefined;
  writeCid: Uint8Array | undefined;
  /** Largest plaintext the peer accepts (RFC 8449). */
  peerRecordLimit = 16_384;
  /** Next message_seq of our handshake messages (RFC 6347 §4.2.2). */
  sendSeq = 0;
  lastActivity: number;
  readonly startedAt: number;
  /** Set by the engine: the key this connection is filed under. */
  key = '';

  private reads: ReadEpoch[] = [{ epoch: 0, window: new ReplayWindow() }];
  private pendingRead: ReadEpoch | undefined;
  private writes: WriteEpoch[] = [{ epoch: 0, seq: 0 }];
  private writeEpoch = 0;
  reassembler: Reassembler | undefined;
  private transcript: Hash | undefined = createHash('sha256');
  private flight: FlightItem[] | undefined;
  private flightTimer: TimerHandle | undefined;
  private flightTimeout = 0;
  private lastOldRetransmit = Number.NEGATIVE_INFINITY;
  private future: Inbound[] = [];
  private inbox: Inbound[] = [];
  private busy = false;

  constructor(
    readonly ctx: ConnectionContext,
    public peer: PeerAddress,
    firstMessageSeq = 0,
  ) {
    this.startedAt = this.lastActivity = ctx.scheduler.now();
    this.reassembler = new Reassembler(firstMessageSeq, ctx.limits.maxHandshakeAhead);
  }

  /**
   * RFC 6347 §4.2.1: a stateless server answers with the ClientHello's record sequence number,
   * so its epoch-0 numbering continues from the second ClientHello's (else the client's replay
   * window would drop our ServerHello as a replay of the HelloVerifyRequest).
   */
  continueWriteSeq(seq: number): void {
    (this.writes[0] as WriteEpoch).seq = seq;
  }

  // ---------------------------------------------------------------- transcript

  addTranscript(message: Uint8Array): void {
    this.transcript?.update(message);
  }

  transcriptHash(): Uint8Array {
    const d = (this.transcript as Hash).copy().digest();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }

  // ---------------------------------------------------------------- keys

  /** Installs the next epoch's keys for both directions; reads switch on CCS, writes on `activateWrite`. */
  installKeys(suite: CipherSuite, kb: KeyBlock): void {
    const { backend, random } = this.ctx;
    const client = { macKey: kb.clientMacKey, key: kb.clientKey, iv: kb.clientIv };
    const server = { macKey: kb.serverMacKey, key: kb.serverKey, iv: kb.serverIv };
    const [mine, theirs] = this.ctx.role === 'server' ? [server, client] : [client, server];
    const readEpoch = (this.reads[this.reads.length - 1] as ReadEpoch).epoch + 1;
    this.pendingRead = { epoch: readEpoch, protection: createProtection(suite, theirs, backend, random), window: new ReplayWindow() };
    this.writes.push({ epoch: this.writeEpoch + 1, seq: 0, protection: createProtection(suite, mine, backend, random) });
    if (this.writes.length > 2) this.writes.shift();
  }

  /** The epoch our next flight entries after a ChangeCipherSpec use. */
  get nextWriteEpoch(): number {
    return this.writeEpoch + 1;
  }

  get currentWriteEpoch(): number {
    return this.writeEpoch;
  }

  activateWrite(): void {
    this.writeEpoch++;
  }

  /** Peer's ChangeCipherSpec: switch reading to the pending epoch (RFC 5246 §7.1). */
  private activateRead(): void {
    if (!this.pendingRead) throw DtlsErrors.unexpectedMessage('ChangeCipherSpec before keys');
    this.reads.push(this.pendingRead);
    if (this.reads.length > 2) this.reads.shift();
    this.pendingRead = undefined;
    // Records of the new epoch that overtook the CCS (RFC 6347 §4.1: reordering) run now.
    this.inbox.unshift(...this.future);
    this.future = [];
  }

  // ---------------------------------------------------------------- inbound

  receive(records: DtlsRecord[], from: PeerAddress): void {
    // Fast path: nothing queued and no async step running (the common application-data case).
    if (!this.busy && this.inbox.length === 0 && records.length === 1 && this.state !== 'closed') {
      this.step(records[0] as DtlsRecord, from);
      return;
    }
    for (const rec of records) {
      if (this.inbox.length >= this.ctx.limits.maxQueuedRecords) break;
      this.inbox.push({ rec, from });
    }
    this.pump();
  }

  private pump(): void {
    while (!this.busy && this.inbox.length > 0 && this.state !== 'closed') {
      const item = this.inbox.shift() as Inbound;
      this.step(item.rec, item.from);
    }
  }

  /** Processes one record; an async step (credential lookup) holds the queue until it settles. */
  private step(rec: DtlsRecord, from: PeerAddress): void {
    let r: void | Promise<void>;
    try {
      r = this.processRecord(rec, from);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!r) return;
    this.busy = true;
    r.then(
      () => {
        this.busy = false;
        this.pump();
      },
      (err: unknown) => {
        this.busy = false;
        this.fail(err);
      },
    );
  }

  /** Can this connection authenticate a record of `epoch` (used to route records between an old session and a new handshake)? */
  readsEpoch(epoch: number): boolean {
    return this.reads.some((r) => r.epoch === epoch) || this.pendingRead?.epoch === epoch;
  }

  private processRecord(rec: DtlsRecord, from: PeerAddress): void | Promise<void> {
    const rs = this.reads.find((r) => r.epoch === rec.epoch);
    if (!rs) {
      if (this.pendingRead?.epoch === rec.epoch && this.future.length < this.ctx.limits.maxHandshakeAhead) {
        this.future.push({ rec, from });
      }
      return;
    }
    // RFC 6347 §4.1.2.6: replay check before the (costlier) authentication.
    if (!rs.window.check(rec.seq)) return;
    let type = rec.type;
    let data = rec.fragment;
    if (rs.protection) {
      const pt = rs.protection.open(rec.type, rec.version, rec.epoch, rec.seq, rec.cid, rec.fragment);
      if (!pt) {
        // RFC 6347 §4.1.2.7: invalid records are dropped silently; an implementation that alerts
        // MUST send a fatal bad_record_mac. During the handshake a Finished that does not
        // authenticate means the peer derived other keys (wrong PSK): we fail with bad_record_mac.
        if (this.state === 'handshaking') throw DtlsErrors.badRecordMac();
        return;
      }
      data = pt;
      if (rec.type === ContentType.tls12Cid) {
        // RFC 9146 §4: DTLSInnerPlaintext = content || real_type || zeros.
        let i = data.length - 1;
        while (i >= 0 && data[i] === 0) i--;
        if (i < 0) return;
        type = data[i] as number;
        data = data.subarray(0, i);
      }
    } else if (rec.type === ContentType.tls12Cid) {
      return;
    }
    const newest = rec.seq > rs.window.highest;
    rs.window.accept(rec.seq);
    this.lastActivity = this.ctx.scheduler.now();
    // RFC 9146 §6: only an authenticated, newest CID record may move the peer address.
    if (newest && rec.cid && rs.protection && !samePeer(from, this.peer)) {
      const old = this.peer;
      this.peer = from;
      this.ctx.hooks.onRebind?.(this, old);
    }
    switch (type) {
      case ContentType.handshake:
        return this.onHandshakeRecord(data);
      case ContentType.changeCipherSpec:
        return this.onChangeCipherSpec(data);
      case ContentType.alert:
        return this.onAlert(data);
      case ContentType.applicationData:
        return this.onApplicationData(data, rs);
      default:
        return;
    }
  }

  private onHandshakeRecord(data: Uint8Array): void | Promise<void> {
    const frags = parseFragments(data, this.ctx.limits.maxHandshakeMessage);
    const r = this.reassembler;
    if (!r) {
      // Handshake done: while our last flight is kept, the peer's repeated flight asks for it again.
      if (this.flight) {
        this.onRetransmittedMessage();
        return;
      }
      // A ClientHello here is a renegotiation attempt, which we refuse (RFC 5746 §4.2).
      if (this.state === 'established' && frags.some((f) => f.type === 1)) {
        this.sendAlert(AlertLevel.warning, AlertDescription.noRenegotiation);
      }
      return;
    }
    for (const f of frags) {
      if (r.add(f) === 'old') this.onRetransmittedMessage();
    }
    return this.drain();
  }

  private drain(): void | Promise<void> {
    for (;;) {
      const m = this.reassembler?.shift();
      if (!m || !this.handshake) return;
      // The peer's next flight implicitly acknowledges ours (RFC 6347 §4.2.4).
      this.stopFlightTimer();
      const raw = encodeHandshake(m.type, m.seq, m.body);
      const p = this.handshake.onMessage(m, raw);
      if (p) return p.then(() => this.drain());
    }
  }

  /** RFC 6347 §4.2.4: a retransmitted peer flight means ours was lost: send it again. */
  private onRetransmittedMessage(): void {
    if (!this.flight) return;
    const now = this.ctx.scheduler.now();
    if (now - this.lastOldRetransmit < this.ctx.limits.initialRetransmitMs / 4) return;
    this.lastOldRetransmit = now;
    this.transmitFlight();
  }

  private onChangeCipherSpec(data: Uint8Array): void {
    if (data.length !== 1 || data[0] !== 1) throw DtlsErrors.decode('bad ChangeCipherSpec');
    if (!this.handshake || !this.pendingRead) return; // a retransmitted CCS of a finished handshake
    this.stopFlightTimer();
    this.handshake.onChangeCipherSpec();
    this.activateRead();
  }

  private onAlert(data: Uint8Array): void {
    if (data.length !== 2) return;
    const level = data[0];
    const desc = data[1] as number;
    if (desc === AlertDescription.closeNotify) {
      // RFC 5246 §7.2.1: answer close_notify with close_notify and discard the session.
      if (this.state === 'established') this.sendAlert(AlertLevel.warning, AlertDescription.closeNotify);
      this.close();
      return;
    }
    if (level === AlertLevel.fatal) this.close(DtlsErrors.alertReceived(`alert ${desc}`));
  }

  private onApplicationData(data: Uint8Array, rs: ReadEpoch): void {
    // RFC 5246 §6.2.1 / RFC 6347 §4.1: application data only under the negotiated keys.
    if (this.state !== 'established' || !rs.protection) return;
    if (this.reads.length > 1 && rs === this.reads[this.reads.length - 1]) {
      // The peer uses the new epoch, so it has our Finished: forget the old epoch and our last flight.
      this.reads.shift();
      this.flight = undefined;
    }
    this.ctx.hooks.onData(this, data);
  }

  // ---------------------------------------------------------------- outbound

  private encode(type: number, epoch: number, payload: Uint8Array): Uint8Array {
    const ws = this.writes.find((w) => w.epoch === epoch) as WriteEpoch;
    const seq = ws.seq++;
    if (!ws.protection) return encodeRecord(type, DTLS_1_2, epoch, seq, payload);
    const cid = this.writeCid && this.writeCid.length > 0 ? this.writeCid : undefined;
    if (cid) {
      // RFC 9146 §4: the real content type moves inside, the record type is tls12_cid.
      const inner = new Uint8Array(payload.length + 1);
      inner.set(payload, 0);
      inner[payload.length] = type;
      const rec = ws.protection.seal(ContentType.tls12Cid, DTLS_1_2, epoch, seq, cid, inner, RECORD_HEADER_LENGTH + cid.length);
      writeRecordHeader(rec, ContentType.tls12Cid, DTLS_1_2, epoch, seq, cid);
      return rec;
    }
    const rec = ws.protection.seal(type, DTLS_1_2, epoch, seq, undefined, payload, RECORD_HEADER_LENGTH);
    writeRecordHeader(rec, type, DTLS_1_2, epoch, seq);
    return rec;
  }

  /** Sends a flight; with `expectReply` it retransmits on a doubling timer until the peer answers (RFC 6347 §4.2.4). */
  sendFlight(items: FlightItem[], expectReply: boolean): void {
    this.stopFlightTimer();
    this.flight = items;
    this.flightTimeout = this.ctx.limits.initialRetransmitMs;
    this.transmitFlight();
    if (expectReply) this.armFlightTimer();
  }

  /** Drops the kept flight (the peer acknowledged it). */
  forgetFlight(): void {
    this.stopFlightTimer();
    this.flight = undefined;
  }

  private transmitFlight(): void {
    if (!this.flight) return;
    const { mtu } = this.ctx.limits;
    const out: Uint8Array[] = [];
    let cur: Uint8Array[] = [];
    let curLen = 0;
    const push = (rec: Uint8Array) => {
      if (curLen + rec.length > mtu && cur.length > 0) {
        out.push(concat(cur, curLen));
        cur = [];
        curLen = 0;
      }
      cur.push(rec);
      curLen += rec.length;
    };
    for (const item of this.flight) {
      if (!item.message) {
        push(this.encode(ContentType.changeCipherSpec, item.epoch, CCS_BODY));
        continue;
      }
      const ws = this.writes.find((w) => w.epoch === item.epoch);
      const overhead = RECORD_HEADER_LENGTH + (ws?.protection?.overhead ?? 0) + (this.writeCid?.length ?? 0) + 1;
      const room = Math.max(64, mtu - overhead - HANDSHAKE_HEADER_LENGTH);
      for (const frag of fragmentMessage(item.message, room)) push(this.encode(ContentType.handshake, item.epoch, frag));
    }
    if (cur.length > 0) out.push(concat(cur, curLen));
    for (const d of out) this.ctx.hooks.send(d, this.peer);
  }

  private armFlightTimer(): void {
    this.flightTimer = this.ctx.scheduler.setTimeout(() => this.onFlightTimeout(), this.flightTimeout);
  }

  private stopFlightTimer(): void {
    this.flightTimer?.cancel();
    this.flightTimer = undefined;
  }

  private onFlightTimeout(): void {
    this.flightTimer = undefined;
    if (this.state !== 'handshaking') return;
    const { limits, scheduler } = this.ctx;
    if (scheduler.now() - this.startedAt >= limits.handshakeTimeoutMs) {
      this.close(DtlsErrors.handshakeTimeout());
      return;
    }
    // RFC 6347 §4.2.4.1: double the timer on each retransmission, up to 60 s.
    this.flightTimeout = Math.min(this.flightTimeout * 2, limits.maxRetransmitMs);
    this.transmitFlight();
    this.armFlightTimer();
  }

  /** Encrypts application data under the current epoch, one record per datagram. */
  sendApplicationData(data: Uint8Array): void {
    if (this.state !== 'established') throw DtlsErrors.closed('session not established');
    const max = Math.min(this.peerRecordLimit, this.ctx.limits.maxRecordSize);
    if (data.length <= max) {
      this.ctx.hooks.send(this.encode(ContentType.applicationData, this.writeEpoch, data), this.peer);
      return;
    }
    for (let o = 0; o < data.length; o += max) {
      this.ctx.hooks.send(this.encode(ContentType.applicationData, this.writeEpoch, data.subarray(o, o + max)), this.peer);
    }
  }

  sendAlert(level: number, desc: number): void {
    if (this.state === 'closed') return;
    this.ctx.hooks.send(this.encode(ContentType.alert, this.writeEpoch, new Uint8Array([level, desc])), this.peer);
  }

  /** Frees the native cipher state of this session while it is idle; the next record rebuilds it. */
  releaseCipherState(): void {
    for (const r of this.reads) r.protection?.release();
    for (const w of this.writes) w.protection?.release();
  }

  // ---------------------------------------------------------------- lifecycle

  /** The handshake finished: drop what only the handshake needed. */
  established(keepFlight: boolean): void {
    this.state = 'established';
    this.handshake = undefined;
    this.reassembler = undefined;
    this.transcript = undefined;
    this.future = [];
    if (!keepFlight) this.forgetFlight();
    else this.stopFlightTimer();
    this.ctx.hooks.onEstablished(this);
  }

  /** Fails the handshake/session: sends the fatal alert the error maps to, then closes. */
  fail(err: unknown): void {
    if (this.state === 'closed') return;
    const e = err as M2MError;
    if (!DtlsErrors.alertReceived.is(err) && !DtlsErrors.handshakeTimeout.is(err)) {
      this.sendAlert(AlertLevel.fatal, alertFor(err));
    }
    this.close(e && typeof e === 'object' && 'code' in e ? e : DtlsErrors.internal(String(err)));
  }

  /** Sends close_notify (RFC 5246 §7.2.1) and closes. */
  closeNotify(): void {
    if (this.state === 'established') this.sendAlert(AlertLevel.warning, AlertDescription.closeNotify);
    this.close();
  }

  close(err?: M2MError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopFlightTimer();
    this.flight = undefined;
    this.inbox = [];
    this.future = [];
    this.ctx.hooks.onClosed(this, err);
  }
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
