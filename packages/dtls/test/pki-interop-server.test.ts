/**
 * The server half of the ECDHE_ECDSA steps against real DTLS 1.2 clients on 127.0.0.1:
 * `openssl s_client -dtls1_2` (X.509 both ways) and `gnutls-cli --udp` (RFC 7250 raw public
 * keys both ways). A test-local server speaks the plaintext framing (pki-dtls-wire.ts) and uses
 * negotiateEcdheServer / buildEcdheServerFlight / authenticatePeer / verifyCertificateVerify /
 * ecdheServerPremaster with the package's key schedule and record protection. The client
 * finishing its handshake means it verified our chain or key and ServerKeyExchange signature.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type PeerIdentity, systemRandom } from '@m2mhub/core';
import { keyBlock, masterSecret, verifyData } from '../src/crypto/keys';
import { suiteById } from '../src/crypto/suites';
import {
  type EcdheServerOptions,
  InMemoryRawPublicKeyStore,
  InMemoryTrustStore,
  type PeerAuthOptions,
  authenticatePeer,
  buildEcdheServerFlight,
  createNodeEc,
  nobleEc,
  ecdheServerPremaster,
  loadPemCredentials,
  negotiateEcdheServer,
  parseCertificate,
  parseCertificateMessage,
  parseCertificateVerify,
  rawKeyCredentials,
  readPrivateKeyPem,
  verifyCertificateVerify,
} from '../src/pki/index';
import { createProtection } from '../src/record/protection';
import { type Msg, PlainDtlsClient, assertBinary, handshake, parseClientHello, serverHello, waitForLine, PeerProcesses, transcriptHash } from './pki-dtls-wire';
import { type OpensslDir, makePki } from './pki-openssl';

let o: OpensslDir;
const peers = new PeerProcesses();
before(() => {
  o = makePki();
});
after(() => {
  peers.killAll();
  o.cleanup();
});

const sha256 = transcriptHash;
const OUR_SUITES = [0xc02b, 0xc0ae];

/** Serves one full ECDHE_ECDSA handshake (no cookie exchange: RFC 6347 §4.2.1 makes it optional). */
async function serveOnce(ep: PlainDtlsClient, options: EcdheServerOptions, auth: PeerAuthOptions): Promise<{ identity: PeerIdentity; suite: number }> {
  const msgs: Msg[] = [];
  const nextMsg = async (): Promise<Msg> => {
    while (msgs.length === 0) {
      const rec = await ep.nextRecord((r) => r.type === 22 && r.epoch === 0, 10_000);
      msgs.push(...ep.reassemble(rec.payload));
    }
    return msgs.shift()!;
  };
  const chMsg = await nextMsg();
  assert.equal(chMsg.type, 1);
  const ch = parseClientHello(chMsg.body);
  const suiteId = OUR_SUITES.find((s) => ch.suites.includes(s));
  assert.ok(suiteId, `client offered ${ch.suites.map((s) => s.toString(16))}`);
  const neg = negotiateEcdheServer(ch.extensions, options);
  const ems = ch.extensions.some((e) => e.type === 23);
  const exts = [...neg.serverHelloExtensions, { type: 0xff01, data: Uint8Array.of(0) }];
  if (ems) exts.push({ type: 23, data: new Uint8Array(0) });
  const serverRandom = systemRandom.bytes(32);
  const flight = buildEcdheServerFlight(neg, options, { clientRandom: ch.random, serverRandom, random: systemRandom });
  let seq = 0;
  const t = [handshake(1, chMsg.seq, chMsg.body)];
  const out = [
    handshake(2, seq++, serverHello(serverRandom, suiteId, exts)),
    handshake(11, seq++, flight.certificate),
    handshake(12, seq++, flight.serverKeyExchange),
    ...(flight.certificateRequest ? [handshake(13, seq++, flight.certificateRequest)] : []),
    handshake(14, seq++, new Uint8Array(0)),
  ];
  t.push(...out);
  ep.send(out.map((payload) => ({ type: 22, payload })));
  // Client flight 5.
  let identity: PeerIdentity | undefined;
  let clientKey: Uint8Array | undefined;
  let m = await nextMsg();
  if (m.type === 11) {
    assert.ok(neg.clientCertificateType !== undefined);
    const peer = await authenticatePeer(parseCertificateMessage(m.body, neg.clientCertificateType), auth);
    identity = peer.identity;
    clientKey = peer.publicKey;
    t.push(handshake(m.type, m.seq, m.body));
    m = await nextMsg();
  }
  assert.equal(m.type, 16);
  const premaster = ecdheServerPremaster(m.body, flight.ephemeral, options.ec);
  t.push(handshake(m.type, m.seq, m.body));
  const sessionHash = sha256(...t);
  if (clientKey) {
    m = await nextMsg();
    assert.equal(m.type, 15);
    // RFC 5246 §7.4.8: over every message before CertificateVerify.
    verifyCertificateVerify(parseCertificateVerify(m.body), { clientPublicKey: clientKey, transcriptDigest: sha256(...t) });
    t.push(handshake(m.type, m.seq, m.body));
  }
  const suite = suiteById(suiteId)!;
  const master = masterSecret(premaster, ch.random, serverRandom, ems ? sessionHash : undefined);
  const kb = keyBlock(master, suite, ch.random, serverRandom);
  const read = createProtection(suite, { macKey: kb.clientMacKey, key: kb.clientKey, iv: kb.clientIv }, 'node', systemRandom);
  const write = createProtection(suite, { macKey: kb.serverMacKey, key: kb.serverKey, iv: kb.serverIv }, 'node', systemRandom);
  await ep.nextRecord((r) => r.type === 20, 10_000);
  const finRec = await ep.nextRecord((r) => r.type === 22 && r.epoch === 1, 10_000);
  const fin = read.open(22, 0xfefd, 1, finRec.seq, undefined, finRec.payload);
  assert.ok(fin, "client Finished decrypts");
  assert.deepEqual(fin.subarray(12), verifyData(master, 'client finished', sha256(...t)));
  t.push(fin);
  const ours = handshake(20, seq++, verifyData(master, 'server finished', sha256(...t)));
  ep.send([
    { type: 20, payload: Uint8Array.of(1) },
    { type: 22, epoch: 1, seq: 0, payload: write.seal(22, 0xfefd, 1, 0, undefined, ours) },
  ]);
  assert.ok(identity, 'the client authenticated');
  return { identity, suite: suiteId };
}

describe('interop with real DTLS 1.2 clients', () => {
  for (const backend of ['noble', 'node'] as const) {
    test(`RFC 5246 §7.3 / RFC 4492 §2.2: openssl s_client -dtls1_2 completes a handshake with X.509 both ways (${backend} EC backend)`, async () => {
      assertBinary('openssl');
      const ep = await PlainDtlsClient.listen();
      try {
        const child = peers.spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${ep.localPort}`, '-cert', 'direct.pem', '-key', 'direct.key',
          '-CAfile', 'root.pem', '-verify_return_error', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0'], o.dir);
          const done = waitForLine(child, /Verify return code: (\d+)/);
        done.catch(() => undefined); // awaited below; only keeps a failure elsewhere from leaving it unhandled
        const ec = backend === 'node' ? createNodeEc() : nobleEc;
        const options: EcdheServerOptions = { credentials: loadPemCredentials(o.text('leaf.pem') + o.text('inter.pem'), o.text('leaf.key')), clientCertificateTypes: [0], ec };
        const trustStore = new InMemoryTrustStore([parseCertificate(o.der('root.pem'))]);
        const { identity } = await serveOnce(ep, options, { trustStore, now: Date.now(), ec, peerRole: 'client' });
        assert.deepEqual(identity, { kind: 'x509', id: 'device-direct', endpoint: 'device-direct' });
        // openssl verified our chain to root.pem and our ServerKeyExchange signature.
        assert.equal((await done)[1], '0');
        child.kill();
      } finally {
        ep.close();
      }
    });
  }

  test('RFC 7250 §4: gnutls-cli --udp completes a handshake with raw public keys both ways', async () => {
    assertBinary('gnutls-cli');
    const ep = await PlainDtlsClient.listen();
    try {
      o.run(['pkey', '-in', 'direct.key', '-pubout', '-out', 'direct.pub']);
      const serverCreds = rawKeyCredentials(readPrivateKeyPem(o.text('leaf.key')).privateKey);
      const child = peers.spawn('gnutls-cli', ['--udp', '-p', String(ep.localPort), '127.0.0.1', '--insecure', '--no-ca-verification',
        '--priority', 'NORMAL:+CTYPE-CLI-RAWPK:+CTYPE-SRV-RAWPK:+AES-128-CCM-8', '--rawpkkeyfile', 'direct.key', '--rawpkfile', 'direct.pub'], o.dir);
        const done = waitForLine(child, /Handshake was completed|.*Fatal error.*|.*Handshake has failed.*/i);
      done.catch(() => undefined);
      const devices = new InMemoryRawPublicKeyStore();
      const fp = devices.add(new Uint8Array(o.run(['pkey', '-in', 'direct.key', '-pubout', '-outform', 'DER'])), 'rpk-device');
      const { identity } = await serveOnce(ep, { credentials: serverCreds, clientCertificateTypes: [2] }, { rawPublicKeyStore: devices, now: 0 });
      assert.deepEqual(identity, { kind: 'rpk', id: fp, endpoint: 'rpk-device' });
      // --insecure only skips the trust decision on our raw key; gnutls still checks the ServerKeyExchange signature.
      assert.match((await done)[0], /Handshake was completed/);
      child.kill();
    } finally {
      ep.close();
    }
  });
});
