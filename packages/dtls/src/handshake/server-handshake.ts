/** The server side of the DTLS 1.2 handshake: full PSK (RFC 4279) and abbreviated (resumption). */
import type { PeerIdentity, Random, Scheduler } from '@m2mhub/core';
import { timingSafeEqual } from '@m2mhub/core';
import type { DtlsLimits } from '../config';
import type { Connection, FlightItem, Handshake } from '../connection';
import { DTLS_1_2, EMPTY_RENEGOTIATION_INFO_SCSV, ExtensionType, HandshakeType } from '../constants';
import { keyBlock, masterSecret, pskPremaster, verifyData } from '../crypto/keys';
import { type CipherSuite, suiteById } from '../crypto/suites';
import { DtlsErrors } from '../errors';
import type { SessionCache } from '../session-cache';
import {
  authenticatePeer,
  buildEcdheServerFlight,
  type EcdheServerFlight,
  type EcdheServerNegotiation,
  type EcdheServerOptions,
  ecdheEcdsaAcceptable,
  ecdheServerPremaster,
  negotiateEcdheServer,
  parseCertificateMessage,
  parseCertificateVerify,
  verifyCertificateVerify,
} from '../pki/index';
import type { PskEntry, PskStore, RpkStore, TrustStore } from '../stores';
import { type ClientHello, encodeHandshake, encodePskIdentity, encodeServerHello, type Extension, findExtension, parsePskIdentity } from './codec';
import type { HandshakeMessage } from './reassembler';
import { expectStep, FLOWS, type Step } from './steps';

export interface ServerHandshakeContext {
  limits: DtlsLimits;
  random: Random;
  scheduler: Scheduler;
  pskStore: PskStore | undefined;
  /** Sent in ServerKeyExchange only when set (several clients choke on a hint). */
  pskIdentityHint: Uint8Array | undefined;
  /** Our suites in preference order. */
  suites: readonly number[];
  sessions: SessionCache;
  allocateCid(): Uint8Array | undefined;
  /** Our certificate / raw public key and the client certificate types we check (ECDHE_ECDSA). */
  ecdhe: EcdheServerOptions | undefined;
  trustStore: TrustStore | undefined;
  rpkStore: RpkStore | undefined;
}

const decoder = new TextDecoder();

export class ServerHandshake implements Handshake {
  private expected: Step[] = [];
  private suite: CipherSuite | undefined;
  private clientRandom: Uint8Array = new Uint8Array(0);
  private serverRandom: Uint8Array = new Uint8Array(0);
  private sessionId: Uint8Array = new Uint8Array(0);
  private master: Uint8Array | undefined;
  private ems = false;
  private resumed = false;
  private ecdhe: { neg: EcdheServerNegotiation; flight: EcdheServerFlight } | undefined;
  /** The client's authenticated public key (ECDHE_ECDSA with client authentication). */
  private clientKey: Uint8Array | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly ctx: ServerHandshakeContext,
  ) {}

  get clientHelloRandom(): Uint8Array {
    return this.clientRandom;
  }

  /** Handles the ClientHello that carried a valid cookie (RFC 6347 §4.2.1) and sends flight 4. */
  start(ch: ClientHello, raw: Uint8Array): void {
    // RFC 6347 §4.1: DTLS 1.2 is 0xfefd; versions count down, so a larger number is older.
    if (ch.version > DTLS_1_2) throw DtlsErrors.protocolVersion();
    if (!ch.compressionMethods.includes(0)) throw DtlsErrors.illegalParameter('null compression not offered');
    this.clientRandom = ch.random;
    this.conn.addTranscript(raw);
    const exts = ch.extensions;
    this.ems = findExtension(exts, ExtensionType.extendedMasterSecret) !== undefined;
    const out: Extension[] = [];
    // RFC 5746 §3.6: answer the SCSV or an empty renegotiation_info with an empty one.
    const reneg = findExtension(exts, ExtensionType.renegotiationInfo);
    if (reneg && !(reneg.data.length === 1 && reneg.data[0] === 0)) throw DtlsErrors.handshakeFailure('renegotiation_info not empty');
    if (reneg || ch.cipherSuites.includes(EMPTY_RENEGOTIATION_INFO_SCSV)) out.push({ type: ExtensionType.renegotiationInfo, data: new Uint8Array([0]) });
    if (this.ems) out.push({ type: ExtensionType.extendedMasterSecret, data: new Uint8Array(0) });
    // RFC 8449 §4: the limit the peer accepts; we announce ours.
    const rsl = findExtension(exts, ExtensionType.recordSizeLimit);
    if (rsl) {
      if (rsl.data.length !== 2) throw DtlsErrors.decode('record_size_limit');
      const v = (rsl.data[0]! << 8) | rsl.data[1]!;
      if (v < 64) throw DtlsErrors.illegalParameter('record_size_limit below 64');
      this.conn.peerRecordLimit = v;
      const mine = Math.min(this.ctx.limits.maxRecordSize, 16_384);
      out.push({ type: ExtensionType.recordSizeLimit, data: new Uint8Array([mine >>> 8, mine & 0xff]) });
    }
    // RFC 9146 §3: the client's CID is what we put on records to it; ours is what it puts on records to us.
    const cidExt = findExtension(exts, ExtensionType.connectionId);
    if (cidExt) {
      if (cidExt.data.length < 1 || cidExt.data[0] !== cidExt.data.length - 1) throw DtlsErrors.decode('connection_id');
      const ours = this.ctx.allocateCid();
      if (ours) {
        this.conn.writeCid = cidExt.data.slice(1);
        this.conn.readCid = ours;
        const d = new Uint8Array(1 + ours.length);
        d[0] = ours.length;
        d.set(ours, 1);
        out.push({ type: ExtensionType.connectionId, data: d });
      }
    }

    this.serverRandom = this.ctx.random.bytes(32);
    const cached = this.ctx.sessions.get(ch.sessionId, this.ctx.scheduler.now());
    // RFC 7627 §5.3: resume only when the EMS use of the original session matches.
    if (cached && ch.cipherSuites.includes(cached.suiteId) && cached.extendedMasterSecret === this.ems) {
      this.resume(cached.id, cached.suiteId, cached.masterSecret, cached.identity, out);
      return;
    }
    this.suite = this.chooseSuite(ch.cipherSuites, exts);
    this.sessionId = this.ctx.limits.sessionCacheSize > 0 ? this.ctx.random.bytes(32) : new Uint8Array(0);
    if (this.suite.keyExchange === 'ecdhe_ecdsa') {
      this.startEcdhe(exts, out);
      return;
    }
    const flight: FlightItem[] = [
      { epoch: 0, message: this.message(HandshakeType.serverHello, this.serverHello(out)) },
    ];
    if (this.ctx.pskIdentityHint) {
      flight.push({ epoch: 0, message: this.message(HandshakeType.serverKeyExchange, encodePskIdentity(this.ctx.pskIdentityHint)) });
    }
    flight.push({ epoch: 0, message: this.message(HandshakeType.serverHelloDone, new Uint8Array(0)) });
    this.expected = [...FLOWS.serverPsk];
    this.conn.sendFlight(flight, true);
  }

  private chooseSuite(offered: number[], exts: Extension[]): CipherSuite {
    for (const id of this.ctx.suites) {
      const s = suiteById(id);
      if (!s || !offered.includes(id)) continue;
      if (s.keyExchange === 'psk' && this.ctx.pskStore) return s;
      // RFC 4492 §4: ECDHE_ECDSA only with credentials and a curve/point format in common.
      if (s.keyExchange === 'ecdhe_ecdsa' && this.ctx.ecdhe && ecdheEcdsaAcceptable(exts, this.ctx.ecdhe)) return s;
    }
    throw DtlsErrors.handshakeFailure('no common cipher suite');
  }

  /** Flight 4 of ECDHE_ECDSA (RFC 4492 §2.2): ServerHello, Certificate, ServerKeyExchange, [CertificateRequest], ServerHelloDone. */
  private startEcdhe(exts: Extension[], out: Extension[]): void {
    const opts = this.ctx.ecdhe as EcdheServerOptions;
    const neg = negotiateEcdheServer(exts, opts);
    out.push(...neg.serverHelloExtensions);
    const f = buildEcdheServerFlight(neg, opts, { clientRandom: this.clientRandom, serverRandom: this.serverRandom, random: this.ctx.random });
    this.ecdhe = { neg, flight: f };
    const flight: FlightItem[] = [
      { epoch: 0, message: this.message(HandshakeType.serverHello, this.serverHello(out)) },
      { epoch: 0, message: this.message(HandshakeType.certificate, f.certificate) },
      { epoch: 0, message: this.message(HandshakeType.serverKeyExchange, f.serverKeyExchange) },
    ];
    if (f.certificateRequest) flight.push({ epoch: 0, message: this.message(HandshakeType.certificateRequest, f.certificateRequest) });
    flight.push({ epoch: 0, message: this.message(HandshakeType.serverHelloDone, new Uint8Array(0)) });
    this.expected = f.certificateRequest ? [...FLOWS.serverEcdheClientAuth] : [...FLOWS.serverEcdhe];
    this.conn.sendFlight(flight, true);
  }

  private serverHello(exts: Extension[]): Uint8Array {
    return encodeServerHello({
      version: DTLS_1_2,
      random: this.serverRandom,
      sessionId: this.sessionId,
      cipherSuite: (this.suite as CipherSuite).id,
      compressionMethod: 0,
      extensions: exts,
    });
  }

  /** Encodes our next handshake message and adds it to the transcript. */
  private message(type: number, body: Uint8Array): Uint8Array {
    const m = encodeHandshake(type, this.conn.sendSeq++, body);
    this.conn.addTranscript(m);
    return m;
  }

  /** Abbreviated handshake (RFC 5246 §7.3 Figure 2): ServerHello, CCS, Finished. */
  private resume(id: Uint8Array, suiteId: number, master: Uint8Array, identity: PeerIdentity | undefined, exts: Extension[]): void {
    this.resumed = true;
    this.suite = suiteById(suiteId) as CipherSuite;
    this.sessionId = id;
    this.master = master;
    this.conn.identity = identity;
    const sh = this.message(HandshakeType.serverHello, this.serverHello(exts));
    this.conn.installKeys(this.suite, keyBlock(master, this.suite, this.clientRandom, this.serverRandom));
    const fin = this.message(HandshakeType.finished, verifyData(master, 'server finished', this.conn.transcriptHash()));
    const epoch = this.conn.currentWriteEpoch;
    this.conn.sendFlight([{ epoch, message: sh }, { epoch }, { epoch: epoch + 1, message: fin }], true);
    this.conn.activateWrite();
    this.expected = [...FLOWS.serverResume];
  }

  onMessage(m: HandshakeMessage, raw: Uint8Array): void | Promise<void> {
    expectStep(this.expected, m.type);
    switch (m.type) {
      case HandshakeType.certificate:
        return this.onCertificate(m.body, raw);
      case HandshakeType.clientKeyExchange:
        if (this.ecdhe) {
          this.conn.addTranscript(raw);
          this.deriveKeys(ecdheServerPremaster(m.body, this.ecdhe.flight.ephemeral));
          return;
        }
        return this.onClientKeyExchange(m.body, raw);
      case HandshakeType.certificateVerify:
        return this.onCertificateVerify(m.body, raw);
      case HandshakeType.finished:
        return this.onFinished(m.body, raw);
    }
  }

  /** The client's Certificate: X.509 chained to the trust store (CN = endpoint) or a stored raw public key. */
  private onCertificate(body: Uint8Array, raw: Uint8Array): Promise<void> {
    const type = (this.ecdhe as { neg: EcdheServerNegotiation }).neg.clientCertificateType;
    const msg = parseCertificateMessage(body, type ?? 0);
    this.conn.addTranscript(raw);
    const opts: Parameters<typeof authenticatePeer>[1] = { now: this.ctx.scheduler.wallNow() };
    if (this.ctx.trustStore) opts.trustStore = this.ctx.trustStore;
    if (this.ctx.rpkStore) opts.rawPublicKeyStore = this.ctx.rpkStore;
    return authenticatePeer(msg, opts).then((peer) => {
      this.clientKey = peer.publicKey;
      this.conn.identity = peer.identity;
    });
  }

  /** RFC 5246 §7.4.8: the signature over the transcript up to ClientKeyExchange proves the client holds the key. */
  private onCertificateVerify(body: Uint8Array, raw: Uint8Array): void {
    verifyCertificateVerify(parseCertificateVerify(body), {
      clientPublicKey: this.clientKey as Uint8Array,
      transcriptDigest: this.conn.transcriptHash(),
    });
    this.conn.addTranscript(raw);
  }

  onChangeCipherSpec(): void {
    expectStep(this.expected, 'ccs');
  }

  private onClientKeyExchange(body: Uint8Array, raw: Uint8Array): void | Promise<void> {
    const idBytes = parsePskIdentity(body, this.ctx.limits.maxPskIdentity);
    const identity = decoder.decode(idBytes);
    const store = this.ctx.pskStore;
    if (!store) throw DtlsErrors.handshakeFailure('no PSK store');
    this.conn.addTranscript(raw);
    const found = store.lookup(identity);
    if (found instanceof Promise) return found.then((e) => this.withPsk(identity, e));
    this.withPsk(identity, found);
  }

  private withPsk(identity: string, entry: PskEntry | undefined): void {
    // RFC 4279 §2: an unknown identity MAY be answered with unknown_psk_identity.
    if (!entry) throw DtlsErrors.unknownPskIdentity();
    this.deriveKeys(pskPremaster(entry.key));
    const id: PeerIdentity = { kind: 'psk', id: identity };
    if (entry.endpoint !== undefined) id.endpoint = entry.endpoint;
    this.conn.identity = id;
  }

  /** master secret (EMS: over the transcript through ClientKeyExchange, RFC 7627 §4) and the next epoch's keys. */
  private deriveKeys(premaster: Uint8Array): void {
    const suite = this.suite as CipherSuite;
    const sessionHash = this.ems ? this.conn.transcriptHash() : undefined;
    this.master = masterSecret(premaster, this.clientRandom, this.serverRandom, sessionHash);
    this.conn.installKeys(suite, keyBlock(this.master, suite, this.clientRandom, this.serverRandom));
  }

  private onFinished(body: Uint8Array, raw: Uint8Array): void {
    const master = this.master as Uint8Array;
    const expected = verifyData(master, 'client finished', this.conn.transcriptHash());
    // RFC 5246 §7.4.9: a Finished that does not verify is a fatal decrypt_error.
    if (body.length !== expected.length || !timingSafeEqual(body, expected)) throw DtlsErrors.decryptError();
    this.conn.addTranscript(raw);
    if (this.resumed) {
      this.conn.established(false);
      return;
    }
    const fin = this.message(HandshakeType.finished, verifyData(master, 'server finished', this.conn.transcriptHash()));
    const epoch = this.conn.currentWriteEpoch;
    this.conn.sendFlight([{ epoch }, { epoch: epoch + 1, message: fin }], false);
    this.conn.activateWrite();
    if (this.sessionId.length > 0) {
      this.ctx.sessions.put({
        id: this.sessionId,
        masterSecret: master,
        suiteId: (this.suite as CipherSuite).id,
        extendedMasterSecret: this.ems,
        identity: this.conn.identity,
        createdAt: this.ctx.scheduler.now(),
      });
    }
    // Our CCS + Finished is the last flight: keep it to answer a retransmitted client flight.
    this.conn.established(true);
  }
}
