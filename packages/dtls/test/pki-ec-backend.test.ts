import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { concatBytes, systemRandom } from '@m2mhub/core';
import {
  type EcBackend,
  PkiErrors,
  certificateVerifyDigest,
  createNodeEc,
  decodeP256Spki,
  ecdhePremaster,
  encodeEcdheServerKeyExchange,
  generateEphemeralKey,
  nobleEc,
  parseCertificate,
  parseCertificateVerify,
  parseEcdheServerKeyExchange,
  privateKeyToPem,
  publicKeyToPem,
  encodeP256Spki,
  readPrivateKeyPem,
  signCertificateVerify,
  validateCertificateChain,
  verifyCertificateVerify,
  verifyEcdheServerKeyExchange,
} from '../src/pki/index';
import { type OpensslDir, makePki } from './pki-openssl';

let o: OpensslDir;
before(() => {
  o = makePki();
});
after(() => o.cleanup());

const backends: EcBackend[] = [nobleEc, createNodeEc()];
const opensslPoint = (keyFile: string) => decodeP256Spki(new Uint8Array(o.run(['pkey', '-in', keyFile, '-pubout', '-outform', 'DER'])));

for (const ec of backends) {
  describe(`EC backend "${ec.name}"`, () => {
    test('RFC 4492 §5.4: signatures verify with openssl dgst; openssl signatures verify with it', () => {
      const { privateKey } = readPrivateKeyPem(o.text('leaf.key'));
      const point = opensslPoint('leaf.key');
      o.run(['pkey', '-in', 'leaf.key', '-pubout', '-out', 'leaf.pub']);
      const msg = new TextEncoder().encode(`message for ${ec.name}`);
      o.write('m', msg);
      for (const hash of ['sha256', 'sha384'] as const) {
        o.write('s', ec.sign(privateKey, msg, hash));
        assert.match(o.run(['dgst', `-${hash}`, '-verify', 'leaf.pub', '-signature', 's', 'm']).toString(), /Verified OK/);
        const theirs = new Uint8Array(o.run(['dgst', `-${hash}`, '-sign', 'leaf.key', 'm']));
        assert.equal(ec.verify({ curve: 'P-256', point }, msg, theirs, hash), true);
        assert.equal(ec.verify({ curve: 'P-256', point }, concatBytes(msg, Uint8Array.of(1)), theirs, hash), false);
      }
      // Malformed signatures and points are false, never a throw.
      assert.equal(ec.verify({ curve: 'P-256', point }, msg, Uint8Array.of(0x30, 0), 'sha256'), false);
      assert.equal(ec.verify({ curve: 'P-256', point: new Uint8Array(65) }, msg, ec.sign(privateKey, msg, 'sha256'), 'sha256'), false);
      assert.throws(() => ec.sign(new Uint8Array(31), msg, 'sha256'), (e) => PkiErrors.badKey.is(e));
      assert.throws(() => ec.publicKey(new Uint8Array(32)), (e) => PkiErrors.badKey.is(e));
    });

    test('RFC 4492 §5.10: ECDH and public keys match openssl', () => {
      const ours = generateEphemeralKey(systemRandom, ec);
      o.write('eph.key', privateKeyToPem(ours.privateKey));
      o.write('eph.pub', publicKeyToPem(encodeP256Spki(ours.publicKey)));
      o.run(['pkey', '-in', 'eph.key', '-check', '-noout']);
      assert.deepEqual(ours.publicKey, opensslPoint('eph.key'));
      const expected = new Uint8Array(o.run(['pkeyutl', '-derive', '-inkey', 'leaf.key', '-peerkey', 'eph.pub']));
      assert.deepEqual(ecdhePremaster(ours.privateKey, opensslPoint('leaf.key'), ec), expected);
    });

    test('RFC 5280 §6.1.3: chain validation through the backend (P-256 and P-384 issuers, tampering)', () => {
      const root = parseCertificate(o.der('root.pem'));
      const leaf = parseCertificate(o.der('leaf.pem'));
      // Wall time: the certificates were generated moments ago (a fixed offset from one notBefore
      // flaked when generation took over a second under load).
      const now = Date.now();
      validateCertificateChain([leaf, parseCertificate(o.der('inter.pem'))], { trustedRoots: [root], now, ec });
      validateCertificateChain([parseCertificate(o.der('p384leaf.pem'))], { trustedRoots: [parseCertificate(o.der('p384root.pem'))], now, ec });
      const bad = Uint8Array.from(o.der('direct.pem'));
      bad[bad.length - 1]! ^= 1;
      assert.throws(() => validateCertificateChain([parseCertificate(bad)], { trustedRoots: [root], now, ec }), (e) => PkiErrors.badCertificate.is(e));
    });
  });
}

describe('backends agree with each other', () => {
  test('ServerKeyExchange and CertificateVerify made by one verify with the other', () => {
    const [noble, node] = backends as [EcBackend, EcBackend];
    const { privateKey, publicKey } = readPrivateKeyPem(o.text('leaf.key'));
    const eph = generateEphemeralKey(systemRandom, node);
    const cr = systemRandom.bytes(32);
    const sr = systemRandom.bytes(32);
    for (const [a, b] of [[noble, node], [node, noble]] as const) {
      const ske = parseEcdheServerKeyExchange(encodeEcdheServerKeyExchange({ clientRandom: cr, serverRandom: sr, ephemeralPublicKey: eph.publicKey, privateKey, ec: a }));
      verifyEcdheServerKeyExchange(ske, { clientRandom: cr, serverRandom: sr, serverPublicKey: publicKey, ec: b });
      const messages = systemRandom.bytes(700);
      const cv = parseCertificateVerify(signCertificateVerify({ privateKey, handshakeMessages: messages, ec: a }));
      verifyCertificateVerify(cv, { clientPublicKey: publicKey, handshakeMessages: messages, ec: b });
      verifyCertificateVerify(cv, { clientPublicKey: publicKey, transcriptDigest: certificateVerifyDigest(messages) });
    }
    const peer = generateEphemeralKey(systemRandom);
    assert.deepEqual(ecdhePremaster(eph.privateKey, peer.publicKey, node), ecdhePremaster(eph.privateKey, peer.publicKey, noble));
  });

  test('the node key cache is bounded and never mixes keys up', () => {
    const node = createNodeEc(2);
    const msg = Uint8Array.of(1, 2, 3);
    const keys = Array.from({ length: 6 }, (_, i) => generateEphemeralKey(systemRandom, i % 2 ? node : nobleEc));
    for (let round = 0; round < 2; round++) {
      for (const k of keys) {
        const sig = node.sign(k.privateKey, msg, 'sha256');
        assert.equal(nobleEc.verify({ curve: 'P-256', point: k.publicKey }, msg, sig, 'sha256'), true);
        assert.equal(node.verify({ curve: 'P-256', point: k.publicKey }, msg, sig, 'sha256'), true);
      }
    }
  });
});
