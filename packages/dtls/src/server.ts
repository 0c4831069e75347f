/**
 * The DTLS server engine, sans I/O: datagrams in through `handleDatagram`, datagrams out through
 * `hooks.send`. It files sessions by address and by connection id, answers ClientHellos
 * statelessly with a cookie until the client proves its address (RFC 6347 §4.2.1), keeps an old
 * session until a new handshake from the same address completes (§4.2.8), and enforces limits.
 */
import type { Logger, M2MError, PeerAddress, Random, Scheduler, TimerHandle } from '@m2mhub/core';
import { peerKeyOf, silentLogger, systemScheduler, toHex } from '@m2mhub/core';
import { type DtlsLimits, DEFAULT_CIPHER_BACKEND, resolveLimits } from './config';
import { Connection, type ConnectionContext } from './connection';
import { AlertDescription, AlertLevel, ContentType, DTLS_1_0, DTLS_1_2, HandshakeType } from './constants';
import { CookieJar } from './cookie';
import type { CipherBackend } from './crypto/aead';
import { CIPHER_SUITES } from './crypto/suites';
import { alertFor } from './errors';
import { encodeHandshake, encodeHelloVerifyRequest, parseClientHello, parseFragments } from './handshake/codec';
import { ServerHandshake, type ServerHandshakeContext } from './handshake/server-handshake';
import { type DtlsRecord, encodeRecord, parseRecords } from './record/codec';
import { CertificateType, type CertificateTypeId, type LocalCredentials } from './pki/index';
import { pooledSystemRandom } from './pooled-random';
import { SessionCache } from './session-cache';
import type { PskStore, RpkStore, TrustStore } from './stores';

export interface DtlsServerOptions {
  pskStore?: PskStore;
  rpkStore?: RpkStore;
  trustStore?: TrustStore;
  /**
   * Our key with an X.509 chain (`loadPemCredentials`) or alone (`rawKeyCredentials`, RFC 7250):
   * enables the ECDHE_ECDSA suites. With a trust store and/or raw-public-key store the client
   * must authenticate with a certificate or a registered raw public key.
   */
  credentials?: LocalCredentials;
  /** PSK identity hint; none by default (several clients choke on it). */
  pskIdentityHint?: string;
  /** Suites in preference order; default: the PSK suites (CCM_8 first), then ECDHE_ECDSA when `credentials` are set. */
  cipherSuites?: number[];
  limits?: Partial<DtlsLimits>;
  scheduler?: Scheduler;
  random?: Random;
  logger?: Logger;
  cipherBackend?: CipherBackend;
}

/** A session as seen by users of the engine. */
export type DtlsSession = Connection;

export interface DtlsServerHooks {
  send(datagram: Uint8Array, peer: PeerAddress): void;
  onData(session: DtlsSession, data: Uint8Array): void;
  onSession?(session: DtlsSession): void;
  onSessionClosed?(session: DtlsSession, err?: M2MError): void;
}

export class DtlsServer {
  readonly limits: DtlsLimits;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly cookies: CookieJar;
  private readonly sessionCache: SessionCache;
  private readonly sessions = new Map<string, Connection>();
  private readonly handshakes = new Map<string, Connection>();
  private readonly byCid = new Map<string, Connection>();
  private readonly connCtx: ConnectionContext;
  private readonly hsCtx: ServerHandshakeContext;
  private sweepTimer: TimerHandle | undefined;
  private closed = false;

  constructor(
    opts: DtlsServerOptions,
    private readonly hooks: DtlsServerHooks,
  ) {
    this.limits = resolveLimits(opts.limits);
    this.scheduler = opts.scheduler ?? systemScheduler;
    this.random = opts.random ?? pooledSystemRandom(this.limits.randomPoolSize);
    this.log = opts.logger ?? silentLogger;
    this.cookies = new CookieJar(this.scheduler, this.random, this.limits.cookieSecretLifetimeMs);
    this.sessionCache = new SessionCache(this.limits.sessionCacheSize, this.limits.sessionCacheLifetimeMs);
    this.connCtx = {
      role: 'server',
      limits: this.limits,
      scheduler: this.scheduler,
      random: this.random,
      backend: opts.cipherBackend ?? DEFAULT_CIPHER_BACKEND,
      hooks: {
        send: (d, peer) => this.hooks.send(d, peer),
        onData: (c, d) => this.hooks.onData(c, d),
        onEstablished: (c) => this.onEstablished(c),
        onClosed: (c, err) => this.onClosed(c, err),
        onRebind: (c, old) => this.onRebind(c, old),
      },
    };
    this.hsCtx = {
      limits: this.limits,
      random: this.random,
      scheduler: this.scheduler,
      pskStore: opts.pskStore,
      pskIdentityHint: opts.pskIdentityHint !== undefined ? new TextEncoder().encode(opts.pskIdentityHint) : undefined,
      suites: opts.cipherSuites ?? CIPHER_SUITES.filter((s) => s.keyExchange === 'psk' || opts.credentials).map((s) => s.id),
      sessions: this.sessionCache,
      allocateCid: () => this.allocateCid(),
      ecdhe: undefined,
      trustStore: opts.trustStore,
      rpkStore: opts.rpkStore,
    };
    if (opts.credentials) {
      const clientTypes: CertificateTypeId[] = [];
      if (opts.trustStore) clientTypes.push(CertificateType.x509);
      if (opts.rpkStore) clientTypes.push(CertificateType.rawPublicKey);
      this.hsCtx.ecdhe = { credentials: opts.credentials, clientCertificateTypes: clientTypes };
    }
    this.armSweep();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get handshakeCount(): number {
    return this.handshakes.size;
  }

  /** The established session at a peer address, if any. */
  sessionAt(peer: PeerAddress): DtlsSession | undefined {
    return this.sessions.get(peerKeyOf(peer));
  }

  /** Feeds one received datagram. Never throws: bad input is dropped or answered with an alert. */
  handleDatagram(data: Uint8Array, from: PeerAddress): void {
    if (this.closed) return;
    let recs: DtlsRecord[];
    try {
      recs = parseRecords(data, this.limits.cidLength, this.limits.maxRecordsPerDatagram, this.limits.maxRecordSize + 2048);
    } catch {
      return;
    }
    const first = recs[0];
    if (!first) return;
    if (first.cid) {
      // RFC 9146 §6: the CID, not the address, names the session.
      this.byCid.get(toHex(first.cid))?.receive(recs, from);
      return;
    }
    const key = peerKeyOf(from);
    const hs = this.handshakes.get(key);
    if (first.epoch === 0 && first.type === ContentType.handshake && first.fragment[0] === HandshakeType.clientHello) {
      if (!hs || this.isNewClientHello(hs, first)) {
        this.onClientHello(first, from, key);
        return;
      }
    }
    if (hs && (first.epoch === 0 || hs.readsEpoch(first.epoch))) {
      hs.receive(recs, from);
      return;
    }
    this.sessions.get(key)?.receive(recs, from);
  }

  /** A ClientHello with another random than the handshake in progress: the client restarted. */
  private isNewClientHello(hs: Connection, rec: DtlsRecord): boolean {
    const h = hs.handshake;
    if (!(h instanceof ServerHandshake)) return false;
    // ClientHello body starts after the 12-byte handshake header: version(2) then random(32).
    const r = rec.fragment.subarray(14, 46);
    if (r.length !== 32) return false;
    const mine = h.clientHelloRandom;
    for (let i = 0; i < 32; i++) if (r[i] !== mine[i]) return true;
    return false;
  }

  private onClientHello(rec: DtlsRecord, from: PeerAddress, key: string): void {
    let ch: ReturnType<typeof parseClientHello>;
    let seq: number;
    try {
      const f = parseFragments(rec.fragment, this.limits.maxHandshakeMessage)[0];
      // Before the cookie round trip we keep no state, so no reassembly either (RFC 6347 §4.2.1).
      if (!f || f.type !== HandshakeType.clientHello || f.offset !== 0 || f.body.length !== f.length) return;
      seq = f.seq;
      ch = parseClientHello(f.body);
    } catch (err) {
      this.statelessAlert(rec, from, alertFor(err));
      return;
    }
    if (ch.version > DTLS_1_2) {
      this.statelessAlert(rec, from, AlertDescription.protocolVersion);
      return;
    }
    if (!this.cookies.verify(key, ch)) {
      // RFC 6347 §4.2.1: HelloVerifyRequest, DTLS 1.0 version, the ClientHello's record sequence number.
      const hvr = encodeHandshake(HandshakeType.helloVerifyRequest, seq, encodeHelloVerifyRequest(DTLS_1_0, this.cookies.make(key, ch)));
      this.hooks.send(encodeRecord(ContentType.handshake, DTLS_1_0, 0, rec.seq, hvr), from);
      return;
    }
    const old = this.handshakes.get(key);
    if (old) old.close();
    if (this.handshakes.size >= this.limits.maxHandshakes) {
      this.log.warn({ peer: key }, 'DTLS handshake limit reached, ClientHello dropped');
      return;
    }
    const conn = new Connection(this.connCtx, from, seq);
    conn.key = key;
    conn.sendSeq = seq;
    conn.continueWriteSeq(rec.seq);
    const hs = new ServerHandshake(conn, this.hsCtx);
    conn.handshake = hs;
    this.handshakes.set(key, conn);
    try {
      if (conn.reassembler) conn.reassembler.nextSeq = seq + 1;
      hs.start(ch, encodeHandshake(HandshakeType.clientHello, seq, rec.fragment.subarray(12)));
    } catch (err) {
      conn.fail(err);
    }
  }

  private statelessAlert(rec: DtlsRecord, to: PeerAddress, desc: number): void {
    this.hooks.send(encodeRecord(ContentType.alert, DTLS_1_2, 0, rec.seq, new Uint8Array([AlertLevel.fatal, desc])), to);
  }

  private allocateCid(): Uint8Array | undefined {
    const n = this.limits.cidLength;
    if (n <= 0) return undefined;
    for (let i = 0; i < 8; i++) {
      const cid = this.random.bytes(n);
      if (!this.byCid.has(toHex(cid))) return cid;
    }
    return undefined;
  }

  private onEstablished(conn: Connection): void {
    if (this.handshakes.get(conn.key) === conn) this.handshakes.delete(conn.key);
    const old = this.sessions.get(conn.key);
    if (old && old !== conn) old.close();
    if (this.sessions.size >= this.limits.maxSessions) {
      // Evict the oldest filed session to stay within the limit.
      const oldest = this.sessions.values().next().value as Connection | undefined;
      oldest?.close();
    }
    this.sessions.set(conn.key, conn);
    if (conn.readCid) this.byCid.set(toHex(conn.readCid), conn);
    this.hooks.onSession?.(conn);
  }

  private onClosed(conn: Connection, err?: M2MError): void {
    if (this.handshakes.get(conn.key) === conn) this.handshakes.delete(conn.key);
    const wasSession = this.sessions.get(conn.key) === conn;
    if (wasSession) this.sessions.delete(conn.key);
    if (conn.readCid) {
      const k = toHex(conn.readCid);
      if (this.byCid.get(k) === conn) this.byCid.delete(k);
    }
    if (err) this.log.debug({ peer: conn.key, code: err.code }, 'DTLS connection closed');
    if (wasSession) this.hooks.onSessionClosed?.(conn, err);
  }

  /** RFC 9146 §6: the session moved to a new address; re-file it. */
  private onRebind(conn: Connection, old: PeerAddress): void {
    const oldKey = peerKeyOf(old);
    if (this.sessions.get(oldKey) === conn) this.sessions.delete(oldKey);
    conn.key = peerKeyOf(conn.peer);
    const other = this.sessions.get(conn.key);
    if (other && other !== conn) other.close();
    this.sessions.set(conn.key, conn);
  }

  /** Sends application data to the session at `peer`; false when there is none. */
  send(peer: PeerAddress, data: Uint8Array): boolean {
    const s = this.sessions.get(peerKeyOf(peer));
    if (s?.state !== 'established') return false;
    (s as Connection).sendApplicationData(data);
    return true;
  }

  private armSweep(): void {
    this.sweepTimer = this.scheduler.setTimeout(() => {
      this.sweep();
      if (!this.closed) this.armSweep();
    }, this.limits.sweepIntervalMs);
  }

  /** Expires idle sessions and handshakes past their deadline; idle sessions free their AES contexts. */
  sweep(): void {
    const now = this.scheduler.now();
    for (const c of [...this.handshakes.values()]) {
      if (now - c.startedAt >= this.limits.handshakeTimeoutMs) c.close();
    }
    for (const c of [...this.sessions.values()]) {
      const idle = now - c.lastActivity;
      if (idle >= this.limits.idleTimeoutMs) c.close();
      else if (idle >= this.limits.cipherIdleReleaseMs) c.releaseCipherState();
    }
  }

  /** Sends close_notify to every session and forgets all state. */
  close(): void {
    if (this.closed) return;
    for (const c of [...this.sessions.values()]) c.closeNotify();
    for (const c of [...this.handshakes.values()]) c.close();
    this.closed = true;
    this.sweepTimer?.cancel();
  }
}
