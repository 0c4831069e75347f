import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ByteWriter, concatBytes, systemRandom } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import {
  CLIENT_CERTIFICATE_TYPE_ECDSA_SIGN,
  CertificateType,
  ECDSA_SHA256,
  HashAlgorithm,
  InMemoryRawPublicKeyStore,
  PkiAlert,
  PkiErrors,
  authenticatePeer,
  certificateVerifyDigest,
  ecdheUsable,
  ecdhePremaster,
  encodeCertificateMessage,
  encodeCertificateRequest,
  encodeCertificateTypeList,
  encodeCertificateTypeSelection,
  encodeEcPointFormats,
  encodeEcdheClientKeyExchange,
  encodeEcdheServerKeyExchange,
  encodeServerEcdhParams,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
  generateEphemeralKey,
  loadPemCredentials,
  localCertificateMessage,
  negotiateCertificateType,
  parseCertificateMessage,
  parseCertificateRequest,
  parseCertificateTypeList,
  parseCertificateTypeSelection,
  parseCertificateVerify,
  parseEcPointFormats,
  parseEcdheClientKeyExchange,
  parseEcdheServerKeyExchange,
  parseSignatureAlgorithms,
  parseSupportedGroups,
  publicKeyToPem,
  rawKeyCredentials,
  selectSignatureAlgorithm,
  serverKeyExchangeSignedData,
  signCertificateVerify,
  verifyCertificateVerify,
  verifyEcdheServerKeyExchange,
} from '../src/pki/index';
import { type OpensslDir, alertOf, makePki } from './pki-openssl';

let o: OpensslDir;
before(() => {
  o = makePki();
});
after(() => o.cleanup());

const rnd = new SeededRandom(42);
const clientRandom = rnd.bytes(32);
const serverRandom = rnd.bytes(32);

describe('ServerKeyExchange (RFC 4492 §5.4, RFC 5246 §7.4.3)', () => {
  test('RFC 4492 §5.4: encode, parse and verify; the layout is curve_type 3, secp256r1 23, ECPoint, sig', () => {
    const { privateKey, publicKey } = loadPemCredentials(o.text('leaf.pem'), o.text('leaf.key'));
    const eph = generateEphemeralKey(systemRandom);
    const body = encodeEcdheServerKeyExchange({ clientRandom, serverRandom, ephemeralPublicKey: eph.publicKey, privateKey });
    assert.deepEqual([...body.subarray(0, 4)], [3, 0, 23, 65]);
    assert.deepEqual(body.subarray(4, 69), eph.publicKey);
    assert.deepEqual([...body.subarray(69, 71)], [HashAlgorithm.sha256, 3]);
    const ske = parseEcdheServerKeyExchange(body);
    assert.deepEqual(ske.publicKey, eph.publicKey);
    assert.deepEqual(ske.params, encodeServerEcdhParams(eph.publicKey));
    verifyEcdheServerKeyExchange(ske, { clientRandom, serverRandom, serverPublicKey: publicKey });
  });

  test('RFC 5246 §7.4.3: the signature verifies with `openssl dgst -sha256 -verify` over randoms + params', () => {
    const { privateKey } = loadPemCredentials(o.text('leaf.pem'), o.text('leaf.key'));
    const eph = generateEphemeralKey(systemRandom);
    const ske = parseEcdheServerKeyExchange(encodeEcdheServerKeyExchange({ clientRandom, serverRandom, ephemeralPublicKey: eph.publicKey, privateKey }));
    o.write('ske.data', serverKeyExchangeSignedData(clientRandom, serverRandom, ske.params));
    o.write('ske.sig', ske.signature);
    o.run(['pkey', '-in', 'leaf.key', '-pubout', '-out', 'leaf.pub']);
    assert.match(o.run(['dgst', '-sha256', '-verify', 'leaf.pub', '-signature', 'ske.sig', 'ske.data']).toString(), /Verified OK/);
    // And a ServerKeyExchange signed by openssl verifies with ours.
    const opensslSig = new Uint8Array(o.run(['dgst', '-sha256', '-sign', 'leaf.key', 'ske.data']));
    const w = new ByteWriter().bytes(ske.params).u8(4).u8(3).vector(2, opensslSig);
    const { publicKey } = loadPemCredentials(o.text('leaf.pem'), o.text('leaf.key'));
    verifyEcdheServerKeyExchange(parseEcdheServerKeyExchange(w.finish()), { clientRandom, serverRandom, serverPublicKey: publicKey });
  });

  test('RFC 5246 §7.2.2: wrong randoms or key is decrypt_error; other curves illegal_parameter; junk decode_error', () => {
    const creds = loadPemCredentials(o.text('leaf.pem'), o.text('leaf.key'));
    const eph = generateEphemeralKey(systemRandom);
    const body = encodeEcdheServerKeyExchange({ clientRandom, serverRandom, ephemeralPublicKey: eph.publicKey, privateKey: creds.privateKey });
    const ske = parseEcdheServerKeyExchange(body);
    assert.equal(alertOf(() => verifyEcdheServerKeyExchange(ske, { clientRandom: serverRandom, serverRandom, serverPublicKey: creds.publicKey })), PkiAlert.decryptError);
    const other = rawKeyCredentials(generateEphemeralKey(systemRandom).privateKey);
    assert.equal(alertOf(() => verifyEcdheServerKeyExchange(ske, { clientRandom, serverRandom, serverPublicKey: other.publicKey })), PkiAlert.decryptError);
    const secp384 = Uint8Array.from(body);
    secp384[2] = 24;
    assert.equal(alertOf(() => parseEcdheServerKeyExchange(secp384)), PkiAlert.illegalParameter);
    const explicitPrime = Uint8Array.from(body);
    explicitPrime[0] = 1;
    assert.equal(alertOf(() => parseEcdheServerKeyExchange(explicitPrime)), PkiAlert.illegalParameter);
    assert.equal(alertOf(() => parseEcdheServerKeyExchange(body.subarray(0, body.length - 1))), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseEcdheServerKeyExchange(concatBytes(body, Uint8Array.of(0)))), PkiAlert.decodeError);
    const sha1 = Uint8Array.from(body);
    sha1[69] = 2; // {sha1, ecdsa}: not offered
    assert.equal(alertOf(() => verifyEcdheServerKeyExchange(parseEcdheServerKeyExchange(sha1), { clientRandom, serverRandom, serverPublicKey: creds.publicKey })), PkiAlert.illegalParameter);
  });
});

describe('Certificate message (RFC 5246 §7.4.2, RFC 7250 §3)', () => {
  test('RFC 5246 §7.4.2: X.509 chain round trip; layout is a 3-byte list length of 3-byte certificates', () => {
    const chain = [o.der('leaf.pem'), o.der('inter.pem')];
    const body = encodeCertificateMessage({ type: CertificateType.x509, chain });
    const total = chain[0]!.length + chain[1]!.length + 6;
    assert.deepEqual([...body.subarray(0, 3)], [total >> 16, (total >> 8) & 0xff, total & 0xff]);
    const m = parseCertificateMessage(body, CertificateType.x509);
    assert.equal(m.type, CertificateType.x509);
    assert.deepEqual(m.type === CertificateType.x509 ? m.chain : [], chain);
    // An empty list is a client that has no certificate.
    assert.deepEqual(parseCertificateMessage(Uint8Array.of(0, 0, 0), CertificateType.x509), { type: 0, chain: [] });
  });

  test('RFC 7250 §3: raw public key form is one SubjectPublicKeyInfo with a 3-byte length', () => {
    const spki = new Uint8Array(o.run(['pkey', '-in', 'leaf.key', '-pubout', '-outform', 'DER']));
    const body = encodeCertificateMessage({ type: CertificateType.rawPublicKey, spki });
    assert.deepEqual([...body.subarray(0, 3)], [0, 0, spki.length]);
    assert.deepEqual(parseCertificateMessage(body, CertificateType.rawPublicKey), { type: 2, spki });
  });

  test('bounds: too many certificates, oversize, empty entries and bad lengths are typed errors', () => {
    const leaf = o.der('leaf.pem');
    const many = encodeCertificateMessage({ type: 0, chain: Array(7).fill(leaf) });
    assert.throws(() => parseCertificateMessage(many, 0), (e) => PkiErrors.invalidChain.is(e));
    assert.throws(() => parseCertificateMessage(many, 0, { maxCertificateMessageBytes: 1000 }), (e) => PkiErrors.decode.is(e));
    assert.throws(() => parseCertificateMessage(encodeCertificateMessage({ type: 0, chain: [leaf] }), 0, { maxCertificateBytes: 100 }), (e) => PkiErrors.badCertificate.is(e));
    assert.equal(alertOf(() => parseCertificateMessage(Uint8Array.of(0, 0, 3, 0, 0, 0), 0)), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseCertificateMessage(Uint8Array.of(0, 0, 4, 0, 0, 9, 1), 0)), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseCertificateMessage(Uint8Array.of(0, 0, 2, 0, 0), 0)), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseCertificateMessage(Uint8Array.of(0, 0, 0), 2)), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseCertificateMessage(Uint8Array.of(0, 0, 1, 5, 0), 2)), PkiAlert.decodeError);
  });
});

describe('CertificateRequest, CertificateVerify, ClientKeyExchange', () => {
  test('RFC 5246 §7.4.4 / RFC 4492 §5.5: CertificateRequest round trip', () => {
    const body = encodeCertificateRequest();
    assert.deepEqual([...body], [1, CLIENT_CERTIFICATE_TYPE_ECDSA_SIGN, 0, 2, 4, 3, 0, 0]);
    assert.deepEqual(parseCertificateRequest(body), { certificateTypes: [64], signatureAlgorithms: [ECDSA_SHA256], certificateAuthorities: [] });
    const dn = o.der('root.pem').subarray(0, 20);
    const withCas = parseCertificateRequest(encodeCertificateRequest({ certificateAuthorities: [dn, dn] }));
    assert.deepEqual(withCas.certificateAuthorities, [dn, dn]);
    assert.throws(() => parseCertificateRequest(encodeCertificateRequest({ certificateAuthorities: [dn, dn] }), { maxCertificateAuthorities: 1 }), (e) => PkiErrors.decode.is(e));
    assert.equal(alertOf(() => parseCertificateRequest(Uint8Array.of(0, 0, 0, 0, 0))), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseCertificateRequest(Uint8Array.of(1, 64, 0, 3, 4, 3, 0, 0, 0))), PkiAlert.decodeError);
  });

  test('RFC 5246 §7.4.8: CertificateVerify over the handshake messages; openssl agrees; digest form equals', () => {
    const creds = loadPemCredentials(o.text('leaf.pem'), o.text('leaf.key'));
    const messages = rnd.bytes(900);
    const body = signCertificateVerify({ privateKey: creds.privateKey, handshakeMessages: messages });
    const cv = parseCertificateVerify(body);
    assert.deepEqual(cv.algorithm, ECDSA_SHA256);
    verifyCertificateVerify(cv, { clientPublicKey: creds.publicKey, handshakeMessages: messages });
    verifyCertificateVerify(cv, { clientPublicKey: creds.publicKey, transcriptDigest: certificateVerifyDigest(messages) });
    // RFC 6979: deterministic, so the digest form gives the same bytes.
    assert.deepEqual(signCertificateVerify({ privateKey: creds.privateKey, transcriptDigest: certificateVerifyDigest(messages) }), body);
    o.write('hs.msgs', messages);
    o.write('cv.sig', cv.signature);
    o.write('leaf.pub', publicKeyToPem(creds.spki));
    assert.match(o.run(['dgst', '-sha256', '-verify', 'leaf.pub', '-signature', 'cv.sig', 'hs.msgs']).toString(), /Verified OK/);
    assert.equal(alertOf(() => verifyCertificateVerify(cv, { clientPublicKey: creds.publicKey, handshakeMessages: messages.subarray(1) })), PkiAlert.decryptError);
    // A client signing with SHA-384 is checked against the messages.
    const cv384 = parseCertificateVerify(signCertificateVerify({ privateKey: creds.privateKey, handshakeMessages: messages, algorithm: { hash: HashAlgorithm.sha384, signature: 3 } }));
    verifyCertificateVerify(cv384, { clientPublicKey: creds.publicKey, handshakeMessages: messages });
    assert.equal(alertOf(() => verifyCertificateVerify(cv384, { clientPublicKey: creds.publicKey, transcriptDigest: certificateVerifyDigest(messages) })), PkiAlert.illegalParameter);
  });

  test('RFC 4492 §5.7: ClientKeyExchange carries the explicit uncompressed ecdh_Yc', () => {
    const eph = generateEphemeralKey(systemRandom);
    const body = encodeEcdheClientKeyExchange(eph.publicKey);
    assert.equal(body[0], 65);
    assert.deepEqual(parseEcdheClientKeyExchange(body), eph.publicKey);
    assert.equal(alertOf(() => parseEcdheClientKeyExchange(Uint8Array.of(0))), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseEcdheClientKeyExchange(Uint8Array.of(33, ...eph.publicKey.subarray(0, 33)))), PkiAlert.illegalParameter);
    assert.equal(alertOf(() => parseEcdheClientKeyExchange(body.subarray(0, 60))), PkiAlert.decodeError);
  });
});

describe('hello extensions', () => {
  test('RFC 7250 §3: client/server_certificate_type bodies and the server choice (§4.1)', () => {
    assert.deepEqual([...encodeCertificateTypeList([2, 0])], [2, 2, 0]);
    assert.deepEqual(parseCertificateTypeList(Uint8Array.of(2, 2, 0)), [2, 0]);
    assert.deepEqual([...encodeCertificateTypeSelection(2)], [2]);
    assert.equal(parseCertificateTypeSelection(Uint8Array.of(2)), 2);
    assert.equal(alertOf(() => parseCertificateTypeList(Uint8Array.of(0))), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseCertificateTypeList(Uint8Array.of(3, 2))), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseCertificateTypeSelection(Uint8Array.of(2, 0))), PkiAlert.decodeError);
    assert.equal(negotiateCertificateType(undefined, [2, 0]), 0);
    assert.equal(negotiateCertificateType([0, 2], [2, 0]), 0); // the client's preference wins
    assert.equal(negotiateCertificateType([2, 0], [0, 2]), 2);
    assert.equal(negotiateCertificateType([0, 2], [0]), 0);
    assert.equal(alertOf(() => negotiateCertificateType([1], [2, 0])), PkiAlert.unsupportedCertificate);
    assert.equal(alertOf(() => negotiateCertificateType(undefined, [2])), PkiAlert.unsupportedCertificate);
  });

  test('RFC 4492 §5.1: supported_groups, ec_point_formats; RFC 5246 §7.4.1.4.1: signature_algorithms', () => {
    assert.deepEqual([...encodeSupportedGroups()], [0, 2, 0, 23]);
    assert.deepEqual(parseSupportedGroups(Uint8Array.of(0, 4, 0, 29, 0, 23)), [29, 23]);
    assert.deepEqual([...encodeEcPointFormats()], [1, 0]);
    assert.deepEqual(parseEcPointFormats(Uint8Array.of(2, 0, 1)), [0, 1]);
    assert.equal(ecdheUsable([29, 23], [0]), true);
    assert.equal(ecdheUsable([29], undefined), false);
    assert.equal(ecdheUsable(undefined, [1]), false);
    assert.equal(ecdheUsable(undefined, undefined), true);
    assert.deepEqual([...encodeSignatureAlgorithms()], [0, 6, 4, 3, 5, 3, 6, 3]);
    const offered = parseSignatureAlgorithms(Uint8Array.of(0, 4, 4, 1, 4, 3));
    assert.deepEqual(selectSignatureAlgorithm(offered), ECDSA_SHA256);
    assert.deepEqual(selectSignatureAlgorithm(undefined), ECDSA_SHA256);
    assert.equal(alertOf(() => selectSignatureAlgorithm([{ hash: 4, signature: 1 }])), 40);
    assert.deepEqual(selectSignatureAlgorithm([{ hash: 5, signature: 3 }, { hash: 4, signature: 1 }]), { hash: 5, signature: 3 });
    assert.equal(alertOf(() => parseSupportedGroups(Uint8Array.of(0, 3, 0, 23, 0))), PkiAlert.decodeError);
    assert.equal(alertOf(() => parseSignatureAlgorithms(Uint8Array.of(0, 0))), PkiAlert.decodeError);
  });
});

describe('the ECDHE_ECDSA key exchange end to end (codecs + crypto, no sockets)', () => {
  test('RFC 4492 §2.2: X.509 server and raw-public-key client agree on the premaster and authenticate', async () => {
    // Server: cert.pem + key.pem; trusts the client RPK. Client: a raw key, trusts the root.
    const server = loadPemCredentials(o.text('leaf.pem') + o.text('inter.pem'), o.text('leaf.key'));
    const client = rawKeyCredentials(generateEphemeralKey(new SeededRandom(99)).privateKey);
    const rpkStore = new InMemoryRawPublicKeyStore();
    rpkStore.add(client.spki, 'rpk-client');
    const now = Date.now();
    // ServerHello negotiated client_certificate_type = RawPublicKey, server_certificate_type = X.509.
    const clientType = negotiateCertificateType(parseCertificateTypeList(encodeCertificateTypeList([2])), [2, 0]);
    const serverType = negotiateCertificateType(undefined, [0]);
    // Server flight: Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone.
    const serverCert = encodeCertificateMessage(localCertificateMessage(server, serverType));
    const serverEph = generateEphemeralKey(systemRandom);
    const ske = encodeEcdheServerKeyExchange({ clientRandom, serverRandom, ephemeralPublicKey: serverEph.publicKey, privateKey: server.privateKey });
    const creq = encodeCertificateRequest();
    // Client: authenticate the server (DER anchors, the handshake's TrustStore shape), verify SKE.
    const serverPeer = await authenticatePeer(parseCertificateMessage(serverCert, serverType), {
      trustStore: { anchors: () => [o.der('root.pem')] },
      now,
    });
    assert.equal(serverPeer.identity.id, 'device-001');
    const parsedSke = parseEcdheServerKeyExchange(ske);
    verifyEcdheServerKeyExchange(parsedSke, { clientRandom, serverRandom, serverPublicKey: serverPeer.publicKey });
    assert.deepEqual(parseCertificateRequest(creq).certificateTypes, [64]);
    // Client flight: Certificate (RPK), ClientKeyExchange, CertificateVerify.
    const clientEph = generateEphemeralKey(systemRandom);
    const clientCert = encodeCertificateMessage(localCertificateMessage(client, clientType));
    const cke = encodeEcdheClientKeyExchange(clientEph.publicKey);
    const transcript = concatBytes(serverCert, ske, creq, clientCert, cke);
    const cv = signCertificateVerify({ privateKey: client.privateKey, handshakeMessages: transcript });
    // Server: authenticate the client, derive, verify CertificateVerify.
    const clientPeer = await authenticatePeer(parseCertificateMessage(clientCert, clientType), { rawPublicKeyStore: rpkStore, now });
    assert.deepEqual(clientPeer.identity, { kind: 'rpk', id: clientPeer.identity.id, endpoint: 'rpk-client' });
    verifyCertificateVerify(parseCertificateVerify(cv), { clientPublicKey: clientPeer.publicKey, transcriptDigest: certificateVerifyDigest(transcript) });
    const serverPremaster = ecdhePremaster(serverEph.privateKey, parseEcdheClientKeyExchange(cke));
    const clientPremaster = ecdhePremaster(clientEph.privateKey, parsedSke.publicKey);
    assert.deepEqual(serverPremaster, clientPremaster);
    assert.equal(serverPremaster.length, 32);
  });

  test('a sync RpkStore without endpoint (the handshake port shape) is accepted', async () => {
    const client = rawKeyCredentials(generateEphemeralKey(new SeededRandom(5)).privateKey);
    const peer = await authenticatePeer({ type: 2, spki: client.spki }, { rawPublicKeyStore: { lookup: () => ({}) }, now: 0 });
    assert.equal(peer.identity.kind, 'rpk');
    assert.equal(peer.identity.endpoint, undefined);
  });
});
