/**
 * The ECDHE_ECDSA steps against real DTLS 1.2 servers over UDP on 127.0.0.1: OpenSSL's
 * `s_server -dtls1_2` (X.509 chain, CertificateRequest, full handshake with client
 * authentication) and GnuTLS' `gnutls-serv --udp` (RFC 7250 raw public key). The plaintext
 * framing is the test's own (pki-dtls-wire.ts); the key schedule and record protection are
 * the package's (../src/crypto, ../src/record), so this also checks the pieces fit together.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { systemRandom } from '@m2mhub/core';
import { keyBlock, masterSecret, verifyData } from '../src/crypto/keys';
import { suiteById } from '../src/crypto/suites';
import {
  type EcBackend,
  type EcdheClientOptions,
  createNodeEc,
  nobleEc,
  InMemoryRawPublicKeyStore,
  InMemoryTrustStore,
  authenticatePeer,
  buildEcdheClientFlight,
  ecdheClientHelloExtensions,
  loadPemCredentials,
  parseCertificate,
  parseCertificateMessage,
  parseCertificateRequest,
  parseEcdheServerKeyExchange,
  readEcdheServerHello,
  verifyEcdheServerKeyExchange,
} from '../src/pki/index';
import { createProtection } from '../src/record/protection';
import { PlainDtlsClient, assertBinary, freeUdpPort, handshake, waitForLine, PeerProcesses, transcriptHash } from './pki-dtls-wire';
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

async function opensslServer(cipher: string, extra: string[]): Promise<number> {
  assertBinary('openssl');
  const child = peers.spawn('openssl', ['s_server', '-dtls1_2', '-accept', '127.0.0.1:0', '-cert', 'leaf.pem', '-key', 'leaf.key',
    '-cert_chain', 'inter.pem', '-cipher', `${cipher}:@SECLEVEL=0`, ...extra], o.dir);
  return Number((await waitForLine(child, /ACCEPT 127\.0\.0\.1:(\d+)/))[1]);
}

const sha256 = transcriptHash;

/**
 * Runs a whole ECDHE_ECDSA handshake with client authentication against openssl s_server.
 * Resolves to "finished" when the server's Finished decrypts and verifies, or to the alert it sent.
 */
async function fullHandshake(suiteId: number, cipher: string, signingKey?: Uint8Array, ec: EcBackend = nobleEc): Promise<string> {
  const port = await opensslServer(cipher, ['-Verify', '1', '-CAfile', 'root.pem', '-verify_return_error']);
  const client = await PlainDtlsClient.open(port);
  try {
    const creds = loadPemCredentials(o.text('direct.pem'), o.text('direct.key'));
    const options: EcdheClientOptions = { credentials: creds, serverCertificateTypes: [0] };
    const f = await client.toServerHelloDone([suiteId], ecdheClientHelloExtensions(options));
    assert.equal(f.suite, suiteId);
    // Flight 4: the server's chain, signed ServerKeyExchange, CertificateRequest.
    const negotiation = readEcdheServerHello(f.extensions, options);
    const trustStore = new InMemoryTrustStore([parseCertificate(o.der('root.pem'))]);
    const server = await authenticatePeer(parseCertificateMessage(f.msgs.get(11)!, negotiation.serverCertificateType), { trustStore, now: Date.now(), ec, peerRole: 'server' });
    assert.deepEqual(server.identity, { kind: 'x509', id: 'device-001', endpoint: 'device-001' });
    const ske = parseEcdheServerKeyExchange(f.msgs.get(12)!);
    verifyEcdheServerKeyExchange(ske, { clientRandom: f.clientRandom, serverRandom: f.serverRandom, serverPublicKey: server.publicKey, ec });
    const certificateRequest = parseCertificateRequest(f.msgs.get(13)!);
    assert.ok(certificateRequest.certificateTypes.includes(64));
    // Flight 5: Certificate, ClientKeyExchange, CertificateVerify, CCS, Finished.
    const signer = signingKey ? { ...creds, privateKey: signingKey } : creds;
    const flight = buildEcdheClientFlight({ serverKeyExchange: ske, certificateRequest, negotiation, credentials: signer, random: systemRandom, ec });
    let seq = f.nextSeq;
    const cert = handshake(11, seq++, flight.certificate!);
    const cke = handshake(16, seq++, flight.clientKeyExchange);
    const t = [...f.transcript, cert, cke];
    // RFC 7627 §4: the session hash covers the messages up to and including ClientKeyExchange.
    const master = masterSecret(flight.premaster, f.clientRandom, f.serverRandom, sha256(...t));
    const cv = handshake(15, seq++, flight.certificateVerify!(sha256(...t)));
    t.push(cv);
    const fin = handshake(20, seq++, verifyData(master, 'client finished', sha256(...t)));
    t.push(fin);
    const suite = suiteById(suiteId)!;
    const kb = keyBlock(master, suite, f.clientRandom, f.serverRandom);
    const write = createProtection(suite, { macKey: kb.clientMacKey, key: kb.clientKey, iv: kb.clientIv }, 'node', systemRandom);
    const read = createProtection(suite, { macKey: kb.serverMacKey, key: kb.serverKey, iv: kb.serverIv }, 'node', systemRandom);
    client.send([
      { type: 22, payload: cert },
      { type: 22, payload: cke },
      { type: 22, payload: cv },
      { type: 20, payload: Uint8Array.of(1) },
      { type: 22, epoch: 1, seq: 0, payload: write.seal(22, 0xfefd, 1, 0, undefined, fin) },
    ]);
    // The server accepted our chain and CertificateVerify only if its Finished comes back.
    const rec = await client.nextRecord((r) => r.type === 21 || (r.type === 22 && r.epoch === 1), 5000);
    if (rec.type === 21) return `alert ${[...rec.payload].join(',')}`;
    const plain = read.open(22, 0xfefd, 1, rec.seq, undefined, rec.payload);
    assert.ok(plain, 'server Finished decrypts');
    assert.equal(plain[0], 20);
    assert.deepEqual(plain.subarray(12), verifyData(master, 'server finished', sha256(...t)));
    return 'finished';
  } finally {
    client.close();
  }
}

describe('interop with real DTLS 1.2 servers', () => {
  for (const [suiteId, cipher] of [
    [0xc02b, 'ECDHE-ECDSA-AES128-GCM-SHA256'],
    [0xc0ae, 'ECDHE-ECDSA-AES128-CCM8'],
  ] as const) {
    test(`RFC 5246 §7.3 / RFC 4492 §2.2: full handshake with openssl s_server -dtls1_2 ${cipher}, both sides authenticated by X.509`, async () => {
      assert.equal(await fullHandshake(suiteId, cipher), 'finished');
    });
  }

  test('RFC 5246 §7.3: the same full handshake with the node:crypto EC backend', async () => {
    assert.equal(await fullHandshake(0xc02b, 'ECDHE-ECDSA-AES128-GCM-SHA256', undefined, createNodeEc()), 'finished');
  });

  test('RFC 5246 §7.4.8: openssl rejects a CertificateVerify made with a key that is not the certificate\'s (decrypt_error)', async () => {
    const wrongKey = loadPemCredentials(o.text('leaf.pem'), o.text('leaf.key')).privateKey;
    assert.equal(await fullHandshake(0xc02b, 'ECDHE-ECDSA-AES128-GCM-SHA256', wrongKey), 'alert 2,51');
  });

  test('RFC 7250 §3/§4: gnutls-serv --udp with a raw public key: server_certificate_type and the SPKI Certificate', async () => {
    assertBinary('gnutls-serv');
    o.run(['pkey', '-in', 'leaf.key', '-pubout', '-out', 'leaf.pub']);
    const port = await freeUdpPort();
    const child = peers.spawn('gnutls-serv', ['--udp', '-p', String(port), '--rawpkkeyfile', 'leaf.key', '--rawpkfile', 'leaf.pub',
      '--priority', 'NORMAL:+CTYPE-SRV-RAWPK:+CTYPE-CLI-RAWPK:+CTYPE-SRV-X509'], o.dir);
    await waitForLine(child, /listening/);
    const options: EcdheClientOptions = { serverCertificateTypes: [2] };
    const exts = ecdheClientHelloExtensions(options);
    assert.ok(exts.some((e) => e.type === 20));
    const client = await PlainDtlsClient.open(port);
    let f: Awaited<ReturnType<PlainDtlsClient['toServerHelloDone']>>;
    try {
      f = await client.toServerHelloDone([0xc02b, 0xc0ae], exts);
    } finally {
      client.close();
    }
    const neg = readEcdheServerHello(f.extensions, options);
    assert.equal(neg.serverCertificateType, 2);
    const msg = parseCertificateMessage(f.msgs.get(11)!, 2);
    const pinned = new InMemoryRawPublicKeyStore();
    const spki = new Uint8Array(o.run(['pkey', '-in', 'leaf.key', '-pubout', '-outform', 'DER']));
    pinned.add(spki, 'gnutls-server');
    const peer = await authenticatePeer(msg, { rawPublicKeyStore: pinned, now: 0 });
    assert.equal(peer.identity.id, createHash('sha256').update(spki).digest('hex'));
    assert.equal(peer.identity.endpoint, 'gnutls-server');
    const ske = parseEcdheServerKeyExchange(f.msgs.get(12)!);
    verifyEcdheServerKeyExchange(ske, { clientRandom: f.clientRandom, serverRandom: f.serverRandom, serverPublicKey: peer.publicKey });
  });
});
