import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isM2MError, toHex } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import {
  type Certificate,
  decodeP256Spki,
  ecdsaDerToCompact,
  encodeCertificateMessage,
  encodeCertificateRequest,
  encodeEcdheServerKeyExchange,
  generateEphemeralKey,
  parseCertificate,
  parseCertificateMessage,
  parseCertificateRequest,
  parseEcdheServerKeyExchange,
  parsePem,
  privateKeyToPem,
  readPrivateKeyPem,
  validateCertificateChain,
} from '../src/pki/index';
import { type OpensslDir, makePki } from './pki-openssl';

let o: OpensslDir;
let corpus: Uint8Array[];
let root: Certificate;
let inter: Certificate;
before(() => {
  o = makePki();
  corpus = ['leaf', 'inter', 'root', 'expired', 'crit', 'p384leaf', 'p384root', 'nocn', 'notca'].map((n) => o.der(`${n}.pem`));
  root = parseCertificate(o.der('root.pem'));
  inter = parseCertificate(o.der('inter.pem'));
});
after(() => o.cleanup());

const BOUNDARY = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xff, 0x30, 0xa0, 0xa3, 0x1f];

/** One structure-agnostic mutation: bit flips, boundary bytes (DER lengths/tags), cuts, splices. */
function mutate(rnd: SeededRandom, input: Uint8Array): Uint8Array {
  const b = Uint8Array.from(input);
  const op = rnd.int(8);
  // DER headers are dense near the start; bias positions there half of the time.
  const pos = () => (rnd.int(2) === 0 ? rnd.int(Math.min(b.length, 300)) : rnd.int(b.length));
  switch (op) {
    case 0:
    case 1: {
      const n = 1 + rnd.int(4);
      for (let i = 0; i < n; i++) b[pos()]! ^= 1 << rnd.int(8);
      return b;
    }
    case 2:
    case 3:
      b[pos()] = BOUNDARY[rnd.int(BOUNDARY.length)]!;
      return b;
    case 4:
      return b.subarray(0, rnd.int(b.length));
    case 5: {
      const at = pos();
      const len = 1 + rnd.int(40);
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + len)]);
    }
    case 6: {
      const at = pos();
      const ins = Uint8Array.from({ length: 1 + rnd.int(8) }, () => BOUNDARY[rnd.int(BOUNDARY.length)]!);
      return Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
    }
    default: {
      // Splice a slice of one certificate into another place (nested, repeated structures).
      const from = pos();
      const len = 1 + rnd.int(64);
      const to = pos();
      return Uint8Array.from([...b.subarray(0, to), ...b.subarray(from, from + len), ...b.subarray(to)]);
    }
  }
}

interface FuzzStats {
  ok: number;
  typed: number;
  codes: Map<string, number>;
}

function fuzz(iterations: number, seed: number, inputs: Uint8Array[], target: (bytes: Uint8Array) => unknown): FuzzStats {
  const rnd = new SeededRandom(seed);
  const stats: FuzzStats = { ok: 0, typed: 0, codes: new Map() };
  for (let i = 0; i < iterations; i++) {
    let bytes = inputs[rnd.int(inputs.length)]!;
    const rounds = 1 + rnd.int(3);
    for (let r = 0; r < rounds; r++) bytes = mutate(rnd, bytes);
    try {
      target(bytes);
      stats.ok++;
    } catch (err) {
      if (!isM2MError(err)) {
        assert.fail(`iteration ${i} (seed ${seed}): untyped ${String(err)} for input ${toHex(bytes)}`);
      }
      // Every error of these parsers maps to a TLS alert or is a config error with an HTTP status.
      assert.ok(err.wire.alert !== undefined || err.wire.http !== undefined, err.code);
      stats.typed++;
      stats.codes.set(err.code, (stats.codes.get(err.code) ?? 0) + 1);
    }
  }
  return stats;
}

describe('fuzzing the PKI parsers', () => {
  test('X.690/RFC 5280: 100,000 mutated DER certificates: only typed errors, bounded memory, < 30 s', () => {
    const t0 = performance.now();
    const heap0 = process.memoryUsage().heapUsed;
    let peak = heap0;
    let validated = 0;
    let n = 0;
    let parsed = 0;
    const stats = fuzz(100_000, 0xc0ffee, corpus, (bytes) => {
      const cert = parseCertificate(bytes);
      // Chain validation (signature checks) on every 8th certificate that still parses.
      if ((++parsed & 7) === 0) {
        validated++;
        validateCertificateChain([cert, inter], { trustedRoots: [root], now: cert.notBefore });
      }
      if ((++n & 0x3ff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    });
    const ms = performance.now() - t0;
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    console.log(`fuzz x509: ${stats.ok} parsed (${validated} chain-validated), ${stats.typed} rejected in ${ms.toFixed(0)} ms; heap +${((peak - heap0) / 1e6).toFixed(1)} MB`, Object.fromEntries(stats.codes));
    assert.ok(stats.typed > 50_000, 'mutations mostly break the certificate');
    assert.ok(stats.ok > 100, 'some mutations still parse (the fuzzer reaches deep fields)');
    assert.ok(ms < 30_000, `took ${ms} ms`);
    assert.ok(peak - heap0 < 256e6, `heap grew ${(peak - heap0) / 1e6} MB`);
  });

  test('handshake message codecs: 10,000 mutations each, only typed errors', () => {
    const leaf = o.der('leaf.pem');
    const key = readPrivateKeyPem(o.text('leaf.key'));
    const eph = generateEphemeralKey(new SeededRandom(3));
    const r32 = new Uint8Array(32);
    const ske = encodeEcdheServerKeyExchange({ clientRandom: r32, serverRandom: r32, ephemeralPublicKey: eph.publicKey, privateKey: key.privateKey });
    fuzz(10_000, 1, [encodeCertificateMessage({ type: 0, chain: [leaf, o.der('inter.pem')] })], (b) => parseCertificateMessage(b, 0));
    fuzz(10_000, 2, [encodeCertificateMessage({ type: 2, spki: parseCertificate(leaf).publicKey.spki })], (b) => {
      const m = parseCertificateMessage(b, 2);
      if (m.type === 2) decodeP256Spki(m.spki);
    });
    fuzz(10_000, 3, [ske], parseEcdheServerKeyExchange);
    fuzz(10_000, 4, [encodeCertificateRequest({ certificateAuthorities: [root.subject.der] })], (b) => parseCertificateRequest(b));
    const sig = parseEcdheServerKeyExchange(ske).signature;
    fuzz(10_000, 5, [sig], (b) => ecdsaDerToCompact(b));
  });

  test('RFC 7468/RFC 5915: 5,000 mutated PEM keys and key DER, only typed errors', () => {
    const key = readPrivateKeyPem(o.text('leaf.key'));
    const pems = [privateKeyToPem(key.privateKey, 'sec1'), privateKeyToPem(key.privateKey, 'pkcs8'), o.text('root.key')];
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    fuzz(5_000, 6, pems.map((p) => enc.encode(p)), (b) => readPrivateKeyPem(dec.decode(b)));
    const ders = pems.map((p) => parsePem(p).at(-1)!.der);
    fuzz(5_000, 7, ders, (b) => {
      readPrivateKeyPem(`-----BEGIN EC PRIVATE KEY-----\n${Buffer.from(b).toString('base64')}\n-----END EC PRIVATE KEY-----\n`);
      readPrivateKeyPem(`-----BEGIN PRIVATE KEY-----\n${Buffer.from(b).toString('base64')}\n-----END PRIVATE KEY-----\n`);
    });
  });
});
