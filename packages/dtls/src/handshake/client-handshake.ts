/** The client side of the DTLS 1.2 handshake (PSK, RFC 4279), with cookie exchange and resumption. */
import type { Random } from '@m2mhub/core';
import { bytesEqual, timingSafeEqual } from '@m2mhub/core';
import type { Connection, Handshake } from '../connection';
import { DTLS_1_2, ExtensionType, HandshakeType } from '../constants';
import { keyBlock, masterSecret, pskPremaster, verifyData } from '../crypto/keys';
import { type CipherSuite, suiteById } from '../crypto/suites';
import { DtlsErrors } from '../errors';
import {
  type ClientHello,
  encodeClientHello,
  encodeHandshake,
  encodePskIdentity,
  type Extension,
  findExtension,
  parseHelloVerifyRequest,
  parseServerHello,
} from './codec';
import {
  authenticatePeer,
  buildEcdheClientFlight,
  type CertificateRequest,
  CertificateType,
  type CertificateTypeId,
  type EcdheClientOptions,
  type EcdheClientNegotiation,
  type EcdheServerKeyExchange,
  ecdheClientHelloExtensions,
  type LocalCredentials,
  parseCertificateMessage,
  parseCertificateRequest,
  parseEcdheServerKeyExchange,
  readEcdheServerHello,
  verifyEcdheServerKeyExchange,
} from '../pki/index';
import type { RpkStore, TrustStore } from '../stores';
import type { HandshakeMessage } from './reassembler';
import { expectStep, FLOWS, type Step } from './steps';

/** What a client keeps to resume a session (RFC 5246 §7.3). */
export interface ClientSession {
  id: Uint8Array;
  masterSecret: Uint8Array;
  suiteId: number;
  extendedMasterSecret: boolean;
}

/** ECDHE_ECDSA client options: how we check the server, and our own key for client authentication. */
export interface ClientEcdheOptions {
  /** Trust anchors for an X.509 server certificate. */
  trustStore?: TrustStore;
  /** Pinned raw public keys of servers (RFC 7250). */
  rpkStore?: RpkStore;
  /** Our key (X.509 chain or raw public key) when the server asks for a client certificate. */
  credentials?: LocalCredentials;
}

export interface ClientHandshakeOptions {
  psk?: { identity: string; key: Uint8Array };
  ecdhe?: ClientEcdheOptions;
  /** Wall clock for certificate validity (Clock.wallNow). */
  wallNow?: () => number;
  suites: readonly number[];
  /** Our connection id to offer (RFC 9146); an empty array asks only for the server's. */
  cid?: Uint8Array;
  /** Offer record_size_limit (RFC 8449) with this value. */
  recordSizeLimit?: number;
  resume?: ClientSession;
  random: Random;
}

const enc = new TextEncoder();

export class ClientHandshake implements Handshake {
  private expected: Step[] = [];
  private hello: ClientHello;
  private helloRaw: Uint8Array = new Uint8Array(0);
  private gotHvr = false;
  private suite: CipherSuite | undefined;
  private serverRandom: Uint8Array = new Uint8Array(0);
  private master: Uint8Array | undefined;
  private ems = false;
  private resumed = false;
  /** The session this handshake produced, for later resumption. */
  session: ClientSession | undefined;
  private ecdheNeg: EcdheClientNegotiation | undefined;
  private serverKey: Uint8Array | undefined;
  private ske: EcdheServerKeyExchange | undefined;
  private certRequest: CertificateRequest | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly opts: ClientHandshakeOptions,
  ) {
    const exts: Extension[] = [
      { type: ExtensionType.extendedMasterSecret, data: new Uint8Array(0) },
      { type: ExtensionType.renegotiationInfo, data: new Uint8Array([0]) },
    ];
    if (opts.recordSizeLimit !== undefined) {
      exts.push({ type: ExtensionType.recordSizeLimit, data: new Uint8Array([opts.recordSizeLimit >>> 8, opts.recordSizeLimit & 0xff]) });
    }
    if (opts.ecdhe && opts.suites.some((id) => suiteById(id)?.keyExchange === 'ecdhe_ecdsa')) {
      exts.push(...ecdheClientHelloExtensions(this.ecdheOptions()));
    }
    if (opts.cid) {
      const d = new Uint8Array(1 + opts.cid.length);
      d[0] = opts.cid.length;
      d.set(opts.cid, 1);
      exts.push({ type: ExtensionType.connectionId, data: d });
    }
    this.hello = {
      version: DTLS_1_2,
      random: opts.random.bytes(32),
      sessionId: opts.resume?.id ?? new Uint8Array(0),
      cookie: new Uint8Array(0),
      cipherSuites: [...opts.suites],
      compressionMethods: new Uint8Array([0]),
      extensions: exts,
    };
  }

  private ecdheOptions(): EcdheClientOptions {
    const e = this.opts.ecdhe ?? {};
    const types: CertificateTypeId[] = [];
    if (e.trustStore) types.push(CertificateType.x509);
    if (e.rpkStore) types.push(CertificateType.rawPublicKey);
    const out: EcdheClientOptions = { serverCertificateTypes: types.length ? types : [CertificateType.x509] };
    if (e.credentials) out.credentials = e.credentials;
    return out;
  }

  /** Flight 1: ClientHello without cookie (RFC 6347 §4.2.1). */
  start(): void {
    this.sendHello();
  }

  private sendHello(): void {
    this.helloRaw = encodeHandshake(HandshakeType.clientHello, this.conn.sendSeq++, encodeClientHello(this.hello));
    this.expected = [...FLOWS.clientHello];
    this.conn.sendFlight([{ epoch: 0, message: this.helloRaw }], true);
  }

  onMessage(m: HandshakeMessage, raw: Uint8Array): void | Promise<void> {
    if (m.type === HandshakeType.helloVerifyRequest && !this.gotHvr && this.expected[0]?.msg === HandshakeType.serverHello) {
      // Flight 3: the same ClientHello with the cookie; neither enters the transcript (RFC 6347 §4.2.6).
      this.gotHvr = true;
      this.hello.cookie = parseHelloVerifyRequest(m.body).cookie;
      this.sendHello();
      return;
    }
    expectStep(this.expected, m.type);
    switch (m.type) {
      case HandshakeType.serverHello:
        this.onServerHello(m.body, raw);
        return;
      case HandshakeType.certificate:
        return this.onCertificate(m.body, raw);
      case HandshakeType.serverKeyExchange:
        this.conn.addTranscript(raw);
        // PSK: an identity hint (RFC 4279 §2) we do not need. ECDHE: signed params (RFC 4492 §5.4).
        if (this.ecdheNeg) {
          const ske = parseEcdheServerKeyExchange(m.body);
          verifyEcdheServerKeyExchange(ske, { clientRandom: this.hello.random, serverRandom: this.serverRandom, serverPublicKey: this.serverKey as Uint8Array });
          this.ske = ske;
        }
        return;
      case HandshakeType.certificateRequest:
        this.conn.addTranscript(raw);
        this.certRequest = parseCertificateRequest(m.body);
        return;
      case HandshakeType.serverHelloDone:
        this.conn.addTranscript(raw);
        this.sendKeyExchange();
        return;
      case HandshakeType.finished:
        this.onFinished(m.body, raw);
        return;
    }
  }

  /** The server's Certificate: an X.509 chain to our trust store or a pinned raw public key (RFC 7250). */
  private onCertificate(body: Uint8Array, raw: Uint8Array): Promise<void> {
    const msg = parseCertificateMessage(body, (this.ecdheNeg as EcdheClientNegotiation).serverCertificateType);
    this.conn.addTranscript(raw);
    const e = this.opts.ecdhe ?? {};
    const o: Parameters<typeof authenticatePeer>[1] = { now: this.opts.wallNow?.() ?? Date.now() };
    if (e.trustStore) o.trustStore = e.trustStore;
    if (e.rpkStore) o.rawPublicKeyStore = e.rpkStore;
    return authenticatePeer(msg, o).then((peer) => {
      this.serverKey = peer.publicKey;
      this.conn.identity = peer.identity;
    });
  }

  onChangeCipherSpec(): void {
    expectStep(this.expected, 'ccs');
  }

  private onServerHello(body: Uint8Array, raw: Uint8Array): void {
    const sh = parseServerHello(body);
    if (sh.version !== DTLS_1_2) throw DtlsErrors.protocolVersion();
    if (!this.hello.cipherSuites.includes(sh.cipherSuite)) throw DtlsErrors.illegalParameter('suite not offered');
    if (sh.compressionMethod !== 0) throw DtlsErrors.illegalParameter('compression');
    this.suite = suiteById(sh.cipherSuite) as CipherSuite;
    this.serverRandom = sh.random;
    this.conn.addTranscript(this.helloRaw);
    this.conn.addTranscript(raw);
    this.ems = findExtension(sh.extensions, ExtensionType.extendedMasterSecret) !== undefined;
    const rsl = findExtension(sh.extensions, ExtensionType.recordSizeLimit);
    if (rsl && rsl.data.length === 2) this.conn.peerRecordLimit = Math.max(64, (rsl.data[0]! << 8) | rsl.data[1]!);
    const cid = findExtension(sh.extensions, ExtensionType.connectionId);
    if (cid && this.opts.cid) {
      if (cid.data.length < 1 || cid.data[0] !== cid.data.length - 1) throw DtlsErrors.decode('connection_id');
      this.conn.writeCid = cid.data.slice(1);
      this.conn.readCid = this.opts.cid;
    }
    const r = this.opts.resume;
    if (r && sh.sessionId.length > 0 && bytesEqual(sh.sessionId, r.id)) {
      if (r.suiteId !== sh.cipherSuite || r.extendedMasterSecret !== this.ems) throw DtlsErrors.illegalParameter('resumed session differs');
      this.resumed = true;
      this.master = r.masterSecret;
      this.session = r;
      this.conn.installKeys(this.suite, keyBlock(r.masterSecret, this.suite, this.hello.random, this.serverRandom));
      this.expected = [...FLOWS.clientFinish];
      return;
    }
    if (sh.sessionId.length > 0) {
      this.session = { id: sh.sessionId, masterSecret: new Uint8Array(0), suiteId: sh.cipherSuite, extendedMasterSecret: this.ems };
    }
    if (this.suite.keyExchange === 'ecdhe_ecdsa') {
      this.ecdheNeg = readEcdheServerHello(sh.extensions, this.ecdheOptions());
      this.expected = [...FLOWS.clientEcdhe];
      return;
    }
    this.expected = [...FLOWS.clientPsk];
  }

  /** Flight 5: ClientKeyExchange, ChangeCipherSpec, Finished. */
  private sendKeyExchange(): void {
    const suite = this.suite as CipherSuite;
    const msgs: Uint8Array[] = [];
    const add = (type: number, body: Uint8Array) => {
      const m = encodeHandshake(type, this.conn.sendSeq++, body);
      this.conn.addTranscript(m);
      msgs.push(m);
    };
    let premaster: Uint8Array;
    let certificateVerify: ((digest: Uint8Array) => Uint8Array) | undefined;
    if (this.ecdheNeg) {
      // RFC 5246 §7.3 flight 5: [Certificate], ClientKeyExchange, [CertificateVerify].
      const input: Parameters<typeof buildEcdheClientFlight>[0] = {
        serverKeyExchange: this.ske as EcdheServerKeyExchange,
        certificateRequest: this.certRequest,
        negotiation: this.ecdheNeg,
        credentials: this.opts.ecdhe?.credentials,
        random: this.opts.random,
      };
      const f = buildEcdheClientFlight(input);
      if (f.certificate) add(HandshakeType.certificate, f.certificate);
      add(HandshakeType.clientKeyExchange, f.clientKeyExchange);
      premaster = f.premaster;
      certificateVerify = f.certificateVerify;
    } else {
      const psk = this.opts.psk;
      if (!psk) throw DtlsErrors.handshakeFailure('no PSK configured');
      add(HandshakeType.clientKeyExchange, encodePskIdentity(enc.encode(psk.identity)));
      premaster = pskPremaster(psk.key);
    }
    // RFC 7627 §4: the session hash covers the messages through ClientKeyExchange.
    const sessionHash = this.ems ? this.conn.transcriptHash() : undefined;
    if (certificateVerify) add(HandshakeType.certificateVerify, certificateVerify(this.conn.transcriptHash()));
    this.master = masterSecret(premaster, this.hello.random, this.serverRandom, sessionHash);
    if (this.session) this.session.masterSecret = this.master;
    this.conn.installKeys(suite, keyBlock(this.master, suite, this.hello.random, this.serverRandom));
    const fin = encodeHandshake(HandshakeType.finished, this.conn.sendSeq++, verifyData(this.master, 'client finished', this.conn.transcriptHash()));
    this.conn.addTranscript(fin);
    this.conn.sendFlight([...msgs.map((message) => ({ epoch: 0, message })), { epoch: 0 }, { epoch: 1, message: fin }], true);
    this.conn.activateWrite();
    this.expected = [...FLOWS.clientFinish];
  }

  private onFinished(body: Uint8Array, raw: Uint8Array): void {
    const master = this.master as Uint8Array;
    const expected = verifyData(master, 'server finished', this.conn.transcriptHash());
    if (body.length !== expected.length || !timingSafeEqual(body, expected)) throw DtlsErrors.decryptError();
    if (!this.resumed) {
      this.conn.established(false);
      return;
    }
    // Abbreviated handshake: our CCS + Finished is the last flight (RFC 5246 §7.3 Figure 2).
    this.conn.addTranscript(raw);
    const fin = encodeHandshake(HandshakeType.finished, this.conn.sendSeq++, verifyData(master, 'client finished', this.conn.transcriptHash()));
    const epoch = this.conn.currentWriteEpoch;
    this.conn.sendFlight([{ epoch }, { epoch: epoch + 1, message: fin }], false);
    this.conn.activateWrite();
    this.conn.established(true);
  }
}
