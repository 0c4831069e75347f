import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isM2MError, toHex } from '@m2mhub/core';
import {
  Oid,
  PkiAlert,
  PkiErrors,
  decodeP256Spki,
  encodeP256Spki,
  formatName,
  parseCertificate,
  parseRawPublicKeyBase64,
  readCertificatesPem,
  spkiFingerprint,
} from '../src/pki/index';
import { type OpensslDir, makePki, makeRsaRoot } from './pki-openssl';

let o: OpensslDir;
before(() => {
  o = makePki();
  makeRsaRoot(o);
});
after(() => o.cleanup());

/** SPKI DER of a key or certificate as openssl writes it. */
function opensslSpki(keyFile: string): Uint8Array {
  return new Uint8Array(o.run(['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']));
}

function opensslDates(pem: string): { notBefore: number; notAfter: number } {
  const out = o.run(['x509', '-in', pem, '-noout', '-dates']).toString();
  const nb = /notBefore=(.+)/.exec(out)![1]!;
  const na = /notAfter=(.+)/.exec(out)![1]!;
  return { notBefore: Date.parse(nb), notAfter: Date.parse(na) };
}

describe('X.509 parser', () => {
  test('RFC 5280 §4.1: parses an openssl leaf: version, serial, names, validity, algorithm', () => {
    const cert = parseCertificate(o.der('leaf.pem'));
    assert.equal(cert.version, 3);
    assert.equal(cert.serialNumber, '0123456789abcdef');
    assert.equal(cert.subject.commonName, 'device-001');
    assert.equal(formatName(cert.subject), 'CN=device-001,O=Acme');
    assert.equal(cert.issuer.commonName, 'Test Intermediate');
    assert.deepEqual({ notBefore: cert.notBefore, notAfter: cert.notAfter }, opensslDates('leaf.pem'));
    assert.deepEqual(cert.signatureAlgorithm, { oid: Oid.ecdsaWithSha256, hash: 'sha256' });
    assert.equal(cert.publicKey.curve, 'P-256');
    assert.equal(cert.publicKey.point?.length, 65);
  });

  test('RFC 5280 §4.1.1.1: the TBS bytes are exactly what openssl hashes (tbs + sigalg + sig = cert)', () => {
    const der = o.der('leaf.pem');
    const cert = parseCertificate(der);
    assert.deepEqual(cert.der, der);
    // The TBSCertificate is the first element inside the outer SEQUENCE.
    const hdr = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
    assert.deepEqual(cert.tbs, der.subarray(hdr, hdr + cert.tbs.length));
  });

  test('RFC 5280 §4.2.1.9/§4.2.1.3: basicConstraints and keyUsage', () => {
    const root = parseCertificate(o.der('root.pem'));
    assert.deepEqual(root.basicConstraints, { ca: true });
    assert.deepEqual(root.keyUsage, ['keyCertSign', 'cRLSign']);
    const inter = parseCertificate(o.der('inter.pem'));
    assert.deepEqual(inter.basicConstraints, { ca: true, pathLength: 0 });
    const leaf = parseCertificate(o.der('leaf.pem'));
    assert.deepEqual(leaf.basicConstraints, { ca: false });
    assert.deepEqual(leaf.keyUsage, ['digitalSignature']);
    assert.ok(leaf.extensions.some((e) => e.oid === Oid.extKeyUsage));
  });

  test('RFC 5280 §4.1.2.5: an openssl ca -startdate/-enddate certificate has those dates', () => {
    const cert = parseCertificate(o.der('expired.pem'));
    assert.equal(cert.notBefore, Date.UTC(2020, 0, 1));
    assert.equal(cert.notAfter, Date.UTC(2021, 0, 1));
  });

  test('RFC 5758 §3.2: ecdsa-with-SHA384 from a P-384 root', () => {
    const leaf = parseCertificate(o.der('p384leaf.pem'));
    assert.equal(leaf.signatureAlgorithm.hash, 'sha384');
    const root = parseCertificate(o.der('p384root.pem'));
    assert.equal(root.publicKey.curve, 'P-384');
    assert.equal(root.publicKey.point?.length, 97);
  });

  test('RSA certificates parse, with no curve and no ECDSA hash (validation reports them unsupported)', () => {
    const rsa = parseCertificate(o.der('rsa.pem'));
    assert.equal(rsa.publicKey.algorithm, Oid.rsaEncryption);
    assert.equal(rsa.publicKey.curve, undefined);
    assert.equal(rsa.signatureAlgorithm.hash, undefined);
  });

  test('RFC 7250 §3: SPKI fingerprint equals `openssl pkey -pubout -outform DER | sha256sum`', () => {
    for (const name of ['leaf', 'inter', 'direct']) {
      const spki = opensslSpki(`${name}.key`);
      const expected = createHash('sha256').update(spki).digest('hex');
      const cert = parseCertificate(o.der(`${name}.pem`));
      assert.equal(spkiFingerprint(cert.publicKey.spki), expected);
      // Our encoder writes byte-identical SPKI to openssl's.
      assert.equal(toHex(encodeP256Spki(decodeP256Spki(spki))), toHex(spki));
    }
    // The SEC1 root key (ecparam -genkey) too.
    const rootSpki = opensslSpki('root.key');
    assert.equal(spkiFingerprint(parseCertificate(o.der('root.pem')).publicKey.spki), createHash('sha256').update(rootSpki).digest('hex'));
  });

  test('admin API form {"rpk":{"publicKey":"<base64 SPKI DER>"}}: parses and fingerprints; rejects junk', () => {
    const spki = opensslSpki('leaf.key');
    const r = parseRawPublicKeyBase64(Buffer.from(spki).toString('base64'));
    assert.equal(r.fingerprint, createHash('sha256').update(spki).digest('hex'));
    // A compressed-point SPKI from openssl gets the fingerprint of the canonical uncompressed form.
    const compressed = new Uint8Array(o.run(['pkey', '-in', 'leaf.key', '-pubout', '-outform', 'DER', '-ec_conv_form', 'compressed']));
    assert.notEqual(compressed.length, spki.length);
    assert.equal(parseRawPublicKeyBase64(Buffer.from(compressed).toString('base64')).fingerprint, r.fingerprint);
    assert.throws(() => parseRawPublicKeyBase64('not base64!'), (e) => PkiErrors.badKey.is(e));
    const rsaSpki = new Uint8Array(o.run(['pkey', '-in', 'rsa.key', '-pubout', '-outform', 'DER']));
    assert.throws(() => parseRawPublicKeyBase64(Buffer.from(rsaSpki).toString('base64')), (e) =>
      PkiErrors.unsupportedCertificate.is(e),
    );
  });

  test('PEM chain file: certificates come back in file order', () => {
    const chain = readCertificatesPem(o.text('leaf.pem') + o.text('inter.pem'));
    assert.deepEqual(
      chain.map((c) => c.subject.commonName),
      ['device-001', 'Test Intermediate'],
    );
  });

  test('X.690 §10.1: malformed DER is a typed bad_certificate error', () => {
    const der = o.der('leaf.pem');
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['truncated', der.subarray(0, der.length - 1)],
      ['trailing byte', Uint8Array.from([...der, 0])],
      ['indefinite length', Uint8Array.from([0x30, 0x80, 0x00, 0x00])],
      ['non-minimal length', Uint8Array.from([0x30, 0x81, 0x03, 0x02, 0x01, 0x00])],
      ['5-byte length', Uint8Array.from([0x30, 0x85, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ['huge claimed length', Uint8Array.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00])],
      ['not a sequence', Uint8Array.from([0x04, 0x00])],
    ];
    for (const [what, bytes] of cases) {
      assert.throws(
        () => parseCertificate(bytes),
        (e) => PkiErrors.badCertificate.is(e) && isM2MError(e) && e.wire.alert === PkiAlert.badCertificate,
        what,
      );
    }
  });

  test('limits: a certificate over maxCertificateBytes and names over maxNameAttributes are refused', () => {
    const der = o.der('leaf.pem');
    assert.throws(() => parseCertificate(der, { maxCertificateBytes: 100 }), (e) => PkiErrors.badCertificate.is(e));
    assert.throws(() => parseCertificate(der, { maxNameAttributes: 1 }), /more than 1 attributes/);
    assert.throws(() => parseCertificate(der, { maxExtensions: 2 }), /more than 2 extensions/);
    assert.throws(() => parseCertificate(der, { maxDerDepth: 2 }), /nesting deeper/);
  });
});
