import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { isM2MError } from '@m2mhub/core';
import {
  type Certificate,
  InMemoryRawPublicKeyStore,
  InMemoryTrustStore,
  Oid,
  PkiAlert,
  PkiErrors,
  authenticatePeer,
  decodeP256Spki,
  encodeP256Spki,
  parseCertificate,
  validateCertificateChain,
} from '../src/pki/index';
import { type OpensslDir, alertOf, makePki, makeRsaRoot } from './pki-openssl';

let o: OpensslDir;
let now: number;
const certs: Record<string, Certificate> = {};
const load = (name: string): Certificate => {
  certs[name] ??= parseCertificate(o.der(`${name}.pem`));
  return certs[name]!;
};

before(() => {
  o = makePki();
  makeRsaRoot(o);
  // Validity is checked against an injected time: one hour after the leaf was issued.
  now = load('leaf').notBefore + 3_600_000;
});
after(() => o.cleanup());

/** What `openssl verify` says about the same chain, to check we agree with a real peer. */
function opensslAccepts(leaf: string, roots: string[], untrusted: string[]): boolean {
  o.write('roots.pem', roots.map((r) => o.text(`${r}.pem`)).join(''));
  const args = ['verify', '-CAfile', 'roots.pem'];
  if (untrusted.length > 0) {
    o.write('untrusted.pem', untrusted.map((r) => o.text(`${r}.pem`)).join(''));
    args.push('-untrusted', 'untrusted.pem');
  }
  try {
    execFileSync('openssl', [...args, `${leaf}.pem`], { cwd: o.dir, stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('certificate chain validation', () => {
  test('RFC 5246 §7.4.2: leaf + intermediate chain to a trusted root', () => {
    const v = validateCertificateChain([load('leaf'), load('inter')], { trustedRoots: [load('root')], now });
    assert.deepEqual(
      v.path.map((c) => c.subject.commonName),
      ['device-001', 'Test Intermediate', 'Test Root'],
    );
    assert.equal(v.anchor, load('root'));
    assert.equal(opensslAccepts('leaf', ['root'], ['inter']), true);
  });

  test('RFC 5246 §7.4.2: the root may be sent too; a directly issued leaf; a pinned leaf', () => {
    validateCertificateChain([load('leaf'), load('inter'), load('root')], { trustedRoots: [load('root')], now });
    validateCertificateChain([load('direct')], { trustedRoots: [load('root')], now });
    validateCertificateChain([load('direct')], { trustedRoots: [load('direct')], now });
  });

  test('RFC 5758 §3.2: a P-384 root signing with ecdsa-with-SHA384', () => {
    validateCertificateChain([load('p384leaf')], { trustedRoots: [load('p384root')], now });
    assert.equal(opensslAccepts('p384leaf', ['p384root'], []), true);
  });

  test('RFC 5246 §7.2.2 unknown_ca: wrong root, missing intermediate', () => {
    assert.equal(alertOf(() => validateCertificateChain([load('otherleaf')], { trustedRoots: [load('root')], now })), PkiAlert.unknownCa);
    assert.equal(alertOf(() => validateCertificateChain([load('leaf')], { trustedRoots: [load('root')], now })), PkiAlert.unknownCa);
    assert.equal(alertOf(() => validateCertificateChain([load('leaf'), load('inter')], { trustedRoots: [load('other')], now })), PkiAlert.unknownCa);
    assert.equal(opensslAccepts('otherleaf', ['root'], []), false);
    assert.equal(opensslAccepts('leaf', ['root'], []), false);
  });

  test('RFC 5246 §7.2.2 certificate_expired: expired and not yet valid, against the injected time', () => {
    const expired = load('expired');
    assert.equal(
      alertOf(() => validateCertificateChain([expired, load('inter')], { trustedRoots: [load('root')], now })),
      PkiAlert.certificateExpired,
    );
    assert.equal(opensslAccepts('expired', ['root'], ['inter']), false);
    // The same certificate is fine in 2020 if its issuers were valid then; here they were not yet.
    assert.equal(
      alertOf(() => validateCertificateChain([expired, load('inter')], { trustedRoots: [load('root')], now: Date.UTC(2020, 5, 1) })),
      PkiAlert.certificateExpired,
    );
    assert.equal(
      alertOf(() => validateCertificateChain([load('leaf'), load('inter')], { trustedRoots: [load('root')], now: load('leaf').notBefore - 1 })),
      PkiAlert.certificateExpired,
    );
    // Far future: the leaf's year is over.
    assert.equal(
      alertOf(() => validateCertificateChain([load('leaf'), load('inter')], { trustedRoots: [load('root')], now: now + 400 * 86_400_000 })),
      PkiAlert.certificateExpired,
    );
  });

  test('RFC 5246 §7.2.2 bad_certificate: a tampered signature or tampered TBS does not verify', () => {
    const der = o.der('leaf.pem');
    const sigTampered = Uint8Array.from(der);
    sigTampered[sigTampered.length - 1]! ^= 0x01; // last byte of s in the Ecdsa-Sig-Value
    const tbsTampered = Uint8Array.from(der);
    const cnAt = Buffer.from(der).indexOf('device-001');
    tbsTampered[cnAt + 9] = 0x32; // device-001 -> device-002
    for (const bad of [sigTampered, tbsTampered]) {
      const cert = parseCertificate(bad);
      const err = (() => {
        try {
          validateCertificateChain([cert, load('inter')], { trustedRoots: [load('root')], now });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(PkiErrors.badCertificate.is(err), String(err));
    }
    // The intermediate tampered: its signature by the root fails against the trust anchor.
    const inter = Uint8Array.from(o.der('inter.pem'));
    inter[inter.length - 2]! ^= 0x40;
    assert.equal(
      alertOf(() => validateCertificateChain([load('leaf'), parseCertificate(inter)], { trustedRoots: [load('root')], now })),
      PkiAlert.badCertificate,
    );
  });

  test('RFC 5280 §6.1.4 (k): an intermediate without the CA flag cannot issue', () => {
    assert.throws(
      () => validateCertificateChain([load('undernotca'), load('notca')], { trustedRoots: [load('root')], now }),
      (e) => PkiErrors.invalidChain.is(e) && e.wire.alert === PkiAlert.badCertificate && /not a CA/.test(e.message),
    );
    assert.equal(opensslAccepts('undernotca', ['root'], ['notca']), false);
  });

  test('RFC 5280 §6.1.4 (m): pathLenConstraint 0 forbids a CA below the intermediate', () => {
    assert.throws(
      () => validateCertificateChain([load('undersub'), load('sub'), load('inter')], { trustedRoots: [load('root')], now }),
      (e) => PkiErrors.invalidChain.is(e) && /pathLenConstraint/.test(e.message),
    );
    assert.equal(opensslAccepts('undersub', ['root'], ['sub', 'inter']), false);
  });

  test('limits: a chain longer than maxChainLength is refused', () => {
    assert.throws(
      () => validateCertificateChain([load('leaf'), load('inter')], { trustedRoots: [load('root')], now, maxChainLength: 2 }),
      (e) => PkiErrors.invalidChain.is(e),
    );
    assert.throws(
      () => validateCertificateChain(Array(7).fill(load('leaf')), { trustedRoots: [load('root')], now }),
      (e) => PkiErrors.invalidChain.is(e),
    );
    assert.throws(() => validateCertificateChain([], { trustedRoots: [load('root')], now }), (e) => PkiErrors.badCertificate.is(e));
  });

  test('RFC 5246 §7.2.2 unsupported_certificate: RSA signatures, unknown critical extensions, no digitalSignature', () => {
    assert.equal(
      alertOf(() => validateCertificateChain([load('rsaleaf')], { trustedRoots: [load('rsa')], now })),
      PkiAlert.unsupportedCertificate,
    );
    assert.equal(
      alertOf(() => validateCertificateChain([load('crit'), load('inter')], { trustedRoots: [load('root')], now })),
      PkiAlert.unsupportedCertificate,
    );
    assert.equal(opensslAccepts('crit', ['root'], ['inter']), false);
    assert.equal(
      alertOf(() =>
        validateCertificateChain([load('nosig'), load('inter')], { trustedRoots: [load('root')], now, leafKeyUsage: 'digitalSignature' }),
      ),
      PkiAlert.unsupportedCertificate,
    );
  });
});

describe('peer authentication (trust store and raw-public-key store ports)', () => {
  test('X.509: the leaf CN is the identity and the endpoint name', async () => {
    const trustStore = new InMemoryTrustStore([load('root')]);
    const peer = await authenticatePeer({ type: 0, chain: [o.der('leaf.pem'), o.der('inter.pem')] }, { trustStore, now });
    assert.deepEqual(peer.identity, { kind: 'x509', id: 'device-001', endpoint: 'device-001' });
    assert.deepEqual(peer.publicKey, load('leaf').publicKey.point);
    assert.equal(peer.certificate?.subject.commonName, 'device-001');
  });

  test('X.509: no CN is bad_certificate; no certificate is handshake_failure; no trust store is handshake_failure', async () => {
    const trustStore = new InMemoryTrustStore([load('root')]);
    await assert.rejects(
      authenticatePeer({ type: 0, chain: [o.der('nocn.pem'), o.der('inter.pem')] }, { trustStore, now }),
      (e) => PkiErrors.badCertificate.is(e) && /no subject CN/.test(e.message),
    );
    await assert.rejects(authenticatePeer({ type: 0, chain: [] }, { trustStore, now }), (e) => isM2MError(e) && e.wire.alert === 40);
    await assert.rejects(authenticatePeer({ type: 0, chain: [o.der('leaf.pem')] }, { now }), (e) => isM2MError(e) && e.wire.alert === 40);
    await assert.rejects(
      authenticatePeer({ type: 0, chain: [o.der('nosig.pem'), o.der('inter.pem')] }, { trustStore, now }),
      (e) => PkiErrors.unsupportedCertificate.is(e),
    );
    await assert.rejects(
      authenticatePeer({ type: 0, chain: [o.der('expired.pem'), o.der('inter.pem')] }, { trustStore, now }),
      (e) => PkiErrors.certificateExpired.is(e),
    );
  });

  test('RFC 5280 §4.2.1.12: extKeyUsage is checked against the peer role when one is given', async () => {
    const trustStore = new InMemoryTrustStore([load('root')]);
    assert.deepEqual(load('leaf').extendedKeyUsage, [Oid.clientAuth, Oid.serverAuth]);
    assert.deepEqual(load('serveronly').extendedKeyUsage, [Oid.serverAuth]);
    const chain = [o.der('serveronly.pem'), o.der('inter.pem')];
    await assert.rejects(
      authenticatePeer({ type: 0, chain }, { trustStore, now, peerRole: 'client' }),
      (e) => PkiErrors.unsupportedCertificate.is(e) && e.wire.alert === PkiAlert.unsupportedCertificate,
    );
    assert.equal((await authenticatePeer({ type: 0, chain }, { trustStore, now, peerRole: 'server' })).identity.id, 'server-only');
    assert.equal((await authenticatePeer({ type: 0, chain }, { trustStore, now })).identity.id, 'server-only');
    assert.equal((await authenticatePeer({ type: 0, chain: [o.der('leaf.pem'), o.der('inter.pem')] }, { trustStore, now, peerRole: 'client' })).identity.id, 'device-001');
    // openssl agrees: not for an SSL client, fine for an SSL server.
    o.write('chainroots.pem', o.text('root.pem'));
    o.write('chaininter.pem', o.text('inter.pem'));
    const verify = (purpose: string) => {
      try {
        o.run(['verify', '-CAfile', 'chainroots.pem', '-untrusted', 'chaininter.pem', '-purpose', purpose, 'serveronly.pem']);
        return true;
      } catch {
        return false;
      }
    };
    assert.equal(verify('sslclient'), false);
    assert.equal(verify('sslserver'), true);
  });

  test('RFC 7250: a raw public key is matched by SPKI fingerprint to its endpoint', async () => {
    const spki = new Uint8Array(o.run(['pkey', '-in', 'leaf.key', '-pubout', '-outform', 'DER']));
    const store = new InMemoryRawPublicKeyStore();
    const fp = store.add(spki, 'rpk-device');
    const peer = await authenticatePeer({ type: 2, spki }, { rawPublicKeyStore: store, now });
    assert.deepEqual(peer.identity, { kind: 'rpk', id: fp, endpoint: 'rpk-device' });
    assert.deepEqual(peer.publicKey, decodeP256Spki(spki));
    // A key not in the store: bad_certificate (as Californium answers an untrusted RPK).
    const other = new Uint8Array(o.run(['pkey', '-in', 'direct.key', '-pubout', '-outform', 'DER']));
    await assert.rejects(
      authenticatePeer({ type: 2, spki: other }, { rawPublicKeyStore: store, now }),
      (e) => PkiErrors.untrustedKey.is(e) && e.wire.alert === PkiAlert.badCertificate,
    );
    // Raw keys with no store configured are not accepted at all.
    await assert.rejects(authenticatePeer({ type: 2, spki }, { now }), (e) => PkiErrors.noCommonParameters.is(e));
    // Regression: the store fingerprinted the SPKI as given, so a key registered in compressed
    // form never matched the canonical fingerprint authenticatePeer computes.
    const compressed = new Uint8Array(o.run(['pkey', '-in', 'direct.key', '-pubout', '-outform', 'DER', '-ec_conv_form', 'compressed']));
    store.add(compressed, 'compressed-device');
    assert.equal((await authenticatePeer({ type: 2, spki: other }, { rawPublicKeyStore: store, now })).identity.endpoint, 'compressed-device');
    // After removal the key is no longer trusted.
    assert.equal(store.remove(fp), true);
    await assert.rejects(authenticatePeer({ type: 2, spki }, { rawPublicKeyStore: store, now }), (e) => PkiErrors.untrustedKey.is(e));
    assert.deepEqual(encodeP256Spki(peer.publicKey), spki);
  });
});
