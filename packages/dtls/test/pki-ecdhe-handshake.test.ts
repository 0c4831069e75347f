import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { concatBytes, systemRandom } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import {
  type CertificateTypeId,
  type EcdheClientOptions,
  type EcdheServerOptions,
  type HelloExtension,
  InMemoryRawPublicKeyStore,
  InMemoryTrustStore,
  PkiAlert,
  authenticatePeer,
  buildEcdheClientFlight,
  buildEcdheServerFlight,
  certificateVerifyDigest,
  ecdheClientHelloExtensions,
  ecdheEcdsaAcceptable,
  ecdheServerPremaster,
  encodeCertificateTypeList,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
  generateEphemeralKey,
  loadPemCredentials,
  negotiateEcdheServer,
  parseCertificate,
  parseCertificateMessage,
  parseCertificateRequest,
  parseCertificateVerify,
  parseEcdheServerKeyExchange,
  rawKeyCredentials,
  readEcdheServerHello,
  verifyCertificateVerify,
  verifyEcdheServerKeyExchange,
} from '../src/pki/index';
import { type OpensslDir, alertOf, makePki } from './pki-openssl';

let o: OpensslDir;
before(() => {
  o = makePki();
});
after(() => o.cleanup());

interface Run {
  serverPeer: Awaited<ReturnType<typeof authenticatePeer>>;
  clientPeer: Awaited<ReturnType<typeof authenticatePeer>> | undefined;
  serverHelloExtensions: HelloExtension[];
}

/**
 * Drives both sides through every ECDHE_ECDSA step with a transcript of message bodies (the
 * real handshake hashes the messages with their DTLS headers; the steps do not care).
 */
async function exchange(client: EcdheClientOptions, server: EcdheServerOptions, stores: Parameters<typeof authenticatePeer>[1], clientStores: Parameters<typeof authenticatePeer>[1]): Promise<Run> {
  const clientRandom = systemRandom.bytes(32);
  const serverRandom = systemRandom.bytes(32);
  const hello = ecdheClientHelloExtensions(client);
  assert.equal(ecdheEcdsaAcceptable(hello, server), true);
  const neg = negotiateEcdheServer(hello, server);
  const flight4 = buildEcdheServerFlight(neg, server, { clientRandom, serverRandom, random: systemRandom });
  // Client side.
  const cneg = readEcdheServerHello(neg.serverHelloExtensions, client);
  assert.equal(cneg.serverCertificateType, neg.serverCertificateType);
  const serverPeer = await authenticatePeer(parseCertificateMessage(flight4.certificate, cneg.serverCertificateType), clientStores);
  const ske = parseEcdheServerKeyExchange(flight4.serverKeyExchange);
  verifyEcdheServerKeyExchange(ske, { clientRandom, serverRandom, serverPublicKey: serverPeer.publicKey });
  const creq = flight4.certificateRequest ? parseCertificateRequest(flight4.certificateRequest) : undefined;
  const flight5 = buildEcdheClientFlight({ serverKeyExchange: ske, certificateRequest: creq, negotiation: cneg, credentials: client.credentials, random: systemRandom });
  let transcript = concatBytes(flight4.certificate, flight4.serverKeyExchange, flight4.certificateRequest ?? new Uint8Array(0));
  if (flight5.certificate) transcript = concatBytes(transcript, flight5.certificate);
  transcript = concatBytes(transcript, flight5.clientKeyExchange);
  const cv = flight5.certificateVerify?.(certificateVerifyDigest(transcript));
  // Server side.
  let clientPeer: Run['clientPeer'];
  if (flight5.certificate) {
    assert.ok(neg.clientCertificateType !== undefined);
    clientPeer = await authenticatePeer(parseCertificateMessage(flight5.certificate, neg.clientCertificateType), stores);
    assert.ok(cv, 'a client that sent a certificate sends CertificateVerify');
    verifyCertificateVerify(parseCertificateVerify(cv), { clientPublicKey: clientPeer.publicKey, transcriptDigest: certificateVerifyDigest(transcript) });
  }
  assert.deepEqual(ecdheServerPremaster(flight5.clientKeyExchange, flight4.ephemeral), flight5.premaster);
  return { serverPeer, clientPeer, serverHelloExtensions: neg.serverHelloExtensions };
}

describe('ECDHE_ECDSA handshake steps', () => {
  test('RFC 5246 §7.3 / RFC 4492 §2.2: X.509 server and X.509 client (no certificate_type extensions)', async () => {
    const server = loadPemCredentials(o.text('direct.pem'), o.text('direct.key'));
    const clientCreds = loadPemCredentials(o.text('leaf.pem') + o.text('inter.pem'), o.text('leaf.key'));
    const trust = new InMemoryTrustStore([parseCertificate(o.der('root.pem'))]);
    const client: EcdheClientOptions = { credentials: { ...clientCreds, chain: clientCreds.chain } };
    const hello = ecdheClientHelloExtensions({ serverCertificateTypes: [0] });
    assert.deepEqual(hello.map((e) => e.type), [10, 11, 13]);
    const run = await exchange(client, { credentials: server, clientCertificateTypes: [0] }, { trustStore: trust, now: Date.now() }, { trustStore: trust, now: Date.now() });
    assert.deepEqual(run.serverPeer.identity, { kind: 'x509', id: 'device-direct', endpoint: 'device-direct' });
    assert.deepEqual(run.clientPeer?.identity, { kind: 'x509', id: 'device-001', endpoint: 'device-001' });
    // client_certificate_type was sent (the client can also do RPK) and answered with X.509.
    assert.deepEqual(run.serverHelloExtensions.map((e) => [e.type, [...e.data]]), [[11, [1, 0]], [19, [0]]]);
  });

  test('RFC 7250 §4: raw public keys both ways; identities are SPKI fingerprints bound to endpoints', async () => {
    const serverCreds = rawKeyCredentials(generateEphemeralKey(new SeededRandom(11)).privateKey);
    const clientCreds = rawKeyCredentials(generateEphemeralKey(new SeededRandom(12)).privateKey);
    const deviceKeys = new InMemoryRawPublicKeyStore();
    deviceKeys.add(clientCreds.spki, 'rpk-device');
    const pinnedServer = new InMemoryRawPublicKeyStore();
    pinnedServer.add(serverCreds.spki, 'hub');
    const run = await exchange(
      { credentials: clientCreds, serverCertificateTypes: [2] },
      { credentials: serverCreds, clientCertificateTypes: [2, 0] },
      { rawPublicKeyStore: deviceKeys, now: 0 },
      { rawPublicKeyStore: pinnedServer, now: 0 },
    );
    assert.equal(run.clientPeer?.identity.endpoint, 'rpk-device');
    assert.equal(run.serverPeer.identity.endpoint, 'hub');
    assert.deepEqual(run.serverHelloExtensions.map((e) => [e.type, [...e.data]]), [[11, [1, 0]], [20, [2]], [19, [2]]]);
  });

  test('RFC 5246 §7.4.6: a client without a key answers CertificateRequest with an empty list; the server refuses', async () => {
    const server = rawKeyCredentials(generateEphemeralKey(new SeededRandom(13)).privateKey);
    const pinned = new InMemoryRawPublicKeyStore();
    pinned.add(server.spki, 'hub');
    const trust = new InMemoryTrustStore([parseCertificate(o.der('root.pem'))]);
    await assert.rejects(
      exchange({ serverCertificateTypes: [2] }, { credentials: server, clientCertificateTypes: [0] }, { trustStore: trust, now: 0 }, { rawPublicKeyStore: pinned, now: 0 }),
      (e) => (e as { wire?: { alert?: number } }).wire?.alert === 40,
    );
    // No client authentication wanted: no CertificateRequest, no client Certificate.
    const run = await exchange({ serverCertificateTypes: [2] }, { credentials: server, clientCertificateTypes: [] }, { now: 0 }, { rawPublicKeyStore: pinned, now: 0 });
    assert.equal(run.clientPeer, undefined);
  });

  test('RFC 5246 §7.4.1.4.1: a client that only accepts ecdsa/sha384 gets a SHA-384 ServerKeyExchange', () => {
    const creds = rawKeyCredentials(generateEphemeralKey(new SeededRandom(15)).privateKey);
    const options: EcdheServerOptions = { credentials: creds, clientCertificateTypes: [] };
    const hello: HelloExtension[] = [{ type: 13, data: encodeSignatureAlgorithms([{ hash: 5, signature: 3 }]) }, { type: 20, data: encodeCertificateTypeList([2]) }];
    const neg = negotiateEcdheServer(hello, options);
    assert.deepEqual(neg.signatureAlgorithm, { hash: 5, signature: 3 });
    const clientRandom = systemRandom.bytes(32);
    const serverRandom = systemRandom.bytes(32);
    const flight = buildEcdheServerFlight(neg, options, { clientRandom, serverRandom, random: systemRandom });
    const ske = parseEcdheServerKeyExchange(flight.serverKeyExchange);
    assert.deepEqual(ske.algorithm, { hash: 5, signature: 3 });
    verifyEcdheServerKeyExchange(ske, { clientRandom, serverRandom, serverPublicKey: creds.publicKey });
    assert.equal(flight.certificateRequest, undefined);
  });

  test('RFC 4492 §4 / RFC 7250 §4.1: nothing in common is handshake_failure or unsupported_certificate', () => {
    const server: EcdheServerOptions = { credentials: rawKeyCredentials(generateEphemeralKey(new SeededRandom(14)).privateKey), clientCertificateTypes: [2] };
    const p384Only: HelloExtension[] = [{ type: 10, data: encodeSupportedGroups([24]) }];
    assert.equal(ecdheEcdsaAcceptable(p384Only, server), false);
    assert.equal(alertOf(() => negotiateEcdheServer(p384Only, server)), 40);
    // The server has only a raw key, the client accepts only X.509 servers (no extension).
    assert.equal(alertOf(() => negotiateEcdheServer([], server)), PkiAlert.unsupportedCertificate);
    const openPgp: HelloExtension[] = [{ type: 20, data: encodeCertificateTypeList([2]) }, { type: 19, data: encodeCertificateTypeList([1]) }];
    assert.equal(alertOf(() => negotiateEcdheServer(openPgp, server)), PkiAlert.unsupportedCertificate);
    // A ServerHello choosing a type the client did not offer.
    const offered: CertificateTypeId[] = [0];
    assert.equal(
      alertOf(() => readEcdheServerHello([{ type: 20, data: Uint8Array.of(2) }], { serverCertificateTypes: offered })),
      PkiAlert.illegalParameter,
    );
  });
});
