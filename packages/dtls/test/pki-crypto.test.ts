import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemRandom, toHex } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import {
  PkiAlert,
  PkiErrors,
  decodeP256Spki,
  ecdhePremaster,
  ecdsaCompactToDer,
  ecdsaDerToCompact,
  ecdsaSign,
  ecdsaVerify,
  encodeP256Spki,
  generateEphemeralKey,
  loadPemCredentials,
  parsePem,
  privateKeyToPem,
  publicKeyToPem,
  readPrivateKeyPem,
  toPem,
  validateEcPoint,
} from '../src/pki/index';
import { type OpensslDir, makePki } from './pki-openssl';

let o: OpensslDir;
before(() => {
  o = makePki();
});
after(() => o.cleanup());

const opensslPoint = (keyFile: string) =>
  decodeP256Spki(new Uint8Array(o.run(['pkey', '-in', keyFile, '-pubout', '-outform', 'DER'])));

describe('PEM keys', () => {
  test('RFC 5915: SEC1 "EC PRIVATE KEY" after an "EC PARAMETERS" block (openssl ecparam -genkey)', () => {
    const text = o.text('root.key');
    assert.match(text, /BEGIN EC PARAMETERS/);
    const key = readPrivateKeyPem(text);
    assert.equal(key.privateKey.length, 32);
    assert.deepEqual(key.publicKey, opensslPoint('root.key'));
  });

  test('RFC 5958: PKCS#8 "PRIVATE KEY" (openssl genpkey)', () => {
    assert.match(o.text('leaf.key'), /BEGIN PRIVATE KEY/);
    assert.deepEqual(readPrivateKeyPem(o.text('leaf.key')).publicKey, opensslPoint('leaf.key'));
  });

  test('RFC 7468: keys we write are read by openssl, in both forms, with the same public key', () => {
    const { privateKey } = readPrivateKeyPem(o.text('leaf.key'));
    const expected = toHex(encodeP256Spki(opensslPoint('leaf.key')));
    for (const format of ['sec1', 'pkcs8'] as const) {
      const pem = privateKeyToPem(privateKey, format);
      assert.match(pem, format === 'sec1' ? /BEGIN EC PRIVATE KEY/ : /BEGIN PRIVATE KEY/);
      o.write(`ours-${format}.key`, pem);
      o.run(['pkey', '-in', `ours-${format}.key`, '-check', '-noout']);
      assert.equal(toHex(new Uint8Array(o.run(['pkey', '-in', `ours-${format}.key`, '-pubout', '-outform', 'DER']))), expected);
      // And we read back what we wrote.
      assert.deepEqual(readPrivateKeyPem(pem).privateKey, privateKey);
    }
    o.write('ours-pub.pem', publicKeyToPem(encodeP256Spki(opensslPoint('leaf.key'))));
    assert.equal(toHex(new Uint8Array(o.run(['pkey', '-pubin', '-in', 'ours-pub.pem', '-outform', 'DER']))), expected);
  });

  test('cert.pem + key.pem credentials: the key must match the leaf; chain order kept', () => {
    const creds = loadPemCredentials(o.text('leaf.pem') + o.text('inter.pem'), o.text('leaf.key'));
    assert.equal(creds.chain.length, 2);
    assert.deepEqual(creds.chain[0], o.der('leaf.pem'));
    assert.deepEqual(creds.spki, new Uint8Array(o.run(['pkey', '-in', 'leaf.key', '-pubout', '-outform', 'DER'])));
    assert.throws(() => loadPemCredentials(o.text('leaf.pem'), o.text('inter.key')), (e) => PkiErrors.badKey.is(e) && /does not belong/.test(e.message));
    assert.throws(() => loadPemCredentials('', o.text('leaf.key')), (e) => PkiErrors.badKey.is(e));
  });

  test('PEM: encrypted keys, unterminated blocks, bad base64 and over-limit input are clear errors', () => {
    o.run(['pkey', '-in', 'leaf.key', '-aes128', '-passout', 'pass:secret', '-out', 'enc.key']);
    assert.throws(() => readPrivateKeyPem(o.text('enc.key')), (e) => PkiErrors.badKey.is(e) && /encrypted/.test(e.message));
    o.run(['ec', '-in', 'root.key', '-aes128', '-passout', 'pass:secret', '-out', 'enc-trad.key']);
    assert.throws(() => readPrivateKeyPem(o.text('enc-trad.key')), (e) => PkiErrors.badKey.is(e) && /encrypted/.test(e.message));
    assert.throws(() => parsePem('-----BEGIN CERTIFICATE-----\nAAAA\n'), /no END line/);
    assert.throws(() => parsePem('-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----\n'), /not base64/);
    assert.throws(() => parsePem('-----BEGIN X-----\nAAAA\n-----END Y-----\n'), /does not match/);
    assert.throws(() => parsePem('x'.repeat(100), { maxPemBytes: 10 }), (e) => PkiErrors.badKey.is(e));
    assert.throws(() => parsePem(toPem('X', new Uint8Array(3)).repeat(3), { maxPemBlocks: 2 }), /more than 2 PEM blocks/);
    assert.throws(() => readPrivateKeyPem(o.text('leaf.pem')), /no EC PRIVATE KEY/);
  });
});

describe('ECDSA (RFC 4492 §5.4 DER signatures)', () => {
  test('signatures we make verify with `openssl dgst -sha256 -verify`', () => {
    const { privateKey } = readPrivateKeyPem(o.text('leaf.key'));
    o.run(['pkey', '-in', 'leaf.key', '-pubout', '-out', 'leaf.pub']);
    for (const [i, msg] of ['hello', '', 'x'.repeat(5000)].entries()) {
      const data = new TextEncoder().encode(msg);
      o.write(`msg${i}`, data);
      o.write(`sig${i}`, ecdsaSign(privateKey, data));
      assert.match(o.run(['dgst', '-sha256', '-verify', 'leaf.pub', '-signature', `sig${i}`, `msg${i}`]).toString(), /Verified OK/);
    }
  });

  test('signatures openssl makes verify with ours; a changed message or signature does not', () => {
    const point = opensslPoint('leaf.key');
    const data = new TextEncoder().encode('client_random server_random params');
    o.write('m', data);
    for (let i = 0; i < 8; i++) {
      // openssl does not normalise s, so high-S signatures are covered across the runs.
      const sig = new Uint8Array(o.run(['dgst', '-sha256', '-sign', 'leaf.key', 'm']));
      assert.equal(ecdsaVerify({ curve: 'P-256', point, signature: sig }, data), true);
      assert.equal(ecdsaVerify({ curve: 'P-256', point, signature: sig }, Uint8Array.from([...data, 0])), false);
      const bad = Uint8Array.from(sig);
      bad[bad.length - 1]! ^= 1;
      assert.equal(ecdsaVerify({ curve: 'P-256', point, signature: bad }, data), false);
    }
    const sig384 = new Uint8Array(o.run(['dgst', '-sha384', '-sign', 'leaf.key', 'm']));
    assert.equal(ecdsaVerify({ curve: 'P-256', point, signature: sig384 }, data, 'sha384'), true);
  });

  test('DER Ecdsa-Sig-Value <-> r||s: round trip, leading zeros, malformed input', () => {
    const compact = new Uint8Array(64);
    compact[31] = 1;
    compact[32] = 0x80;
    const der = ecdsaCompactToDer(compact);
    assert.equal(toHex(der), `3026020101022100${'80'}${'00'.repeat(31)}`);
    assert.deepEqual(ecdsaDerToCompact(der), compact);
    assert.equal(ecdsaDerToCompact(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01])), undefined);
    assert.equal(ecdsaDerToCompact(Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x01])), undefined); // negative r
    assert.equal(ecdsaDerToCompact(new Uint8Array(200)), undefined);
  });
});

describe('ECDHE on P-256 (RFC 4492 §5.10)', () => {
  test('the premaster matches `openssl pkeyutl -derive` for the same keys, both ways', () => {
    for (let i = 0; i < 3; i++) {
      const ours = generateEphemeralKey(systemRandom);
      o.write('eph.key', privateKeyToPem(ours.privateKey, 'pkcs8'));
      o.write('eph.pub', publicKeyToPem(encodeP256Spki(ours.publicKey)));
      o.run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'peer.key']);
      o.run(['pkey', '-in', 'peer.key', '-pubout', '-out', 'peer.pub']);
      const peerPoint = opensslPoint('peer.key');
      const expected = new Uint8Array(o.run(['pkeyutl', '-derive', '-inkey', 'peer.key', '-peerkey', 'eph.pub']));
      assert.equal(expected.length, 32);
      assert.deepEqual(ecdhePremaster(ours.privateKey, peerPoint), expected);
      assert.deepEqual(new Uint8Array(o.run(['pkeyutl', '-derive', '-inkey', 'eph.key', '-peerkey', 'peer.pub'])), expected);
    }
  });

  test('ephemeral keys come from the injected Random (deterministic with a seeded one)', () => {
    const a = generateEphemeralKey(new SeededRandom(7));
    const b = generateEphemeralKey(new SeededRandom(7));
    const c = generateEphemeralKey(new SeededRandom(8));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.privateKey, c.privateKey);
    assert.equal(a.publicKey.length, 65);
    assert.equal(a.publicKey[0], 4);
  });

  test('RFC 4492 §5.1.2 / RFC 8422 §5.11: compressed, off-curve and malformed points are illegal_parameter', () => {
    const { publicKey } = generateEphemeralKey(new SeededRandom(1));
    const compressed = Uint8Array.from([2 + (publicKey[64]! & 1), ...publicKey.subarray(1, 33)]);
    const offCurve = Uint8Array.from(publicKey);
    offCurve[64]! ^= 1;
    for (const p of [compressed, offCurve, new Uint8Array(65).fill(0, 1).map((v, i) => (i === 0 ? 4 : v)), new Uint8Array(0)]) {
      assert.throws(() => validateEcPoint(p), (e) => PkiErrors.illegalParameter.is(e) && e.wire.alert === PkiAlert.illegalParameter);
    }
    assert.throws(() => ecdhePremaster(generateEphemeralKey(new SeededRandom(2)).privateKey, offCurve), (e) => PkiErrors.illegalParameter.is(e));
  });
});
