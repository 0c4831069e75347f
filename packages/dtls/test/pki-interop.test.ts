/**
 * The ECDHE_ECDSA codecs against real DTLS 1.2 servers over UDP on 127.0.0.1: OpenSSL's
 * `s_server -dtls1_2` (X.509 chain, CertificateRequest) and GnuTLS' `gnutls-serv --udp`
 * (RFC 7250 raw public key). The test speaks the plaintext part of the handshake itself
 * (ClientHello with our ECDHE extensions, cookie exchange) and checks what our parsers make of
 * the server's flight: certificate chain / raw key authentication and the ServerKeyExchange
 * signature over the randoms. Completing the handshake is the state machines' job.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type Socket, createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { ByteReader, ByteWriter, systemRandom } from '@m2mhub/core';
import {
  type EcdheClientOptions,
  InMemoryRawPublicKeyStore,
  InMemoryTrustStore,
  authenticatePeer,
  ecdheClientHelloExtensions,
  parseCertificate,
  parseCertificateMessage,
  parseCertificateRequest,
  parseEcdheServerKeyExchange,
  readEcdheServerHello,
  verifyEcdheServerKeyExchange,
} from '../src/pki/index';
import { type OpensslDir, makePki } from './pki-openssl';

let o: OpensslDir;
const children: ChildProcess[] = [];
before(() => {
  o = makePki();
});
after(() => {
  for (const c of children) c.kill('SIGKILL');
  o.cleanup();
});

function assertBinary(name: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
  } catch {
    assert.fail(`${name} is required for this test (Debian: openssl / gnutls-bin)`);
  }
}

// --- the plaintext DTLS 1.2 framing the test needs (RFC 6347 §4.1, §4.2.2) ---

function record(payload: Uint8Array, seq: number): Uint8Array {
  return new ByteWriter(13 + payload.length).u8(22).u16(0xfefd).u16(0).u48(seq).vector(2, payload).finish();
}

function handshake(type: number, seq: number, body: Uint8Array): Uint8Array {
  return new ByteWriter(12 + body.length).u8(type).u24(body.length).u16(seq).u24(0).u24(body.length).bytes(body).finish();
}

function clientHello(random: Uint8Array, cookie: Uint8Array, suites: number[], exts: { type: number; data: Uint8Array }[]): Uint8Array {
  const w = new ByteWriter(256).u16(0xfefd).bytes(random).u8(0).vector(1, cookie).u16(2 * suites.length);
  for (const s of suites) w.u16(s);
  w.u8(1).u8(0);
  const e = new ByteWriter(128);
  for (const x of [...exts, { type: 0xff01, data: Uint8Array.of(0) }, { type: 23, data: new Uint8Array(0) }]) e.u16(x.type).vector(2, x.data);
  return w.vector(2, e.finish()).finish();
}

interface Msg {
  type: number;
  body: Uint8Array;
}

/** Handshake messages of epoch 0 in a datagram, reassembled by message_seq. */
class Reassembler {
  private parts = new Map<number, { type: number; body: Uint8Array; got: Set<number> }>();
  next = 0;
  push(datagram: Uint8Array): Msg[] {
    const out: Msg[] = [];
    const r = new ByteReader(datagram);
    while (r.remaining >= 13) {
      const type = r.u8();
      r.u16();
      const epoch = r.u16();
      r.u48();
      const payload = r.vector(2);
      if (type !== 22 || epoch !== 0) continue;
      const h = new ByteReader(payload);
      while (h.remaining >= 12) {
        const mt = h.u8();
        const len = h.u24();
        const seq = h.u16();
        const off = h.u24();
        const frag = h.vector(3);
        if (seq < this.next) continue;
        let p = this.parts.get(seq);
        if (!p) this.parts.set(seq, (p = { type: mt, body: new Uint8Array(len), got: new Set() }));
        p.body.set(frag, off);
        for (let i = off; i < off + frag.length; i++) p.got.add(i);
      }
    }
    for (let p = this.parts.get(this.next); p && p.got.size === p.body.length; p = this.parts.get(this.next)) {
      out.push({ type: p.type, body: p.body });
      this.parts.delete(this.next++);
    }
    return out;
  }
}

/** Runs the client side up to ServerHelloDone; returns the randoms and the server's messages by type. */
async function serverFlight(port: number, suites: number[], exts: { type: number; data: Uint8Array }[]) {
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
  const random = systemRandom.bytes(32);
  const msgs = new Map<number, Uint8Array>();
  let hello = handshake(1, 0, clientHello(random, new Uint8Array(0), suites, exts));
  let recSeq = 0;
  const send = () => sock.send(record(hello, recSeq++), port, '127.0.0.1');
  const reasm = new Reassembler();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(send, 300); // also covers a server still starting up
      const deadline = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`no ServerHelloDone from port ${port}; got ${[...msgs.keys()]}`));
      }, 10_000);
      sock.on('message', (d) => {
        for (const m of reasm.push(new Uint8Array(d))) {
          if (m.type === 3) {
            // HelloVerifyRequest: version(2) cookie<0..255> (RFC 6347 §4.2.1); ClientHello again with it.
            const cookie = m.body.subarray(3, 3 + m.body[2]!);
            hello = handshake(1, 1, clientHello(random, cookie, suites, exts));
            send();
            continue;
          }
          msgs.set(m.type, m.body);
          if (m.type === 14) {
            clearInterval(timer);
            clearTimeout(deadline);
            resolve();
          }
        }
      });
      send();
    });
  } finally {
    sock.close();
  }
  const sh = msgs.get(2);
  assert.ok(sh, 'ServerHello');
  const r = new ByteReader(sh);
  r.u16();
  const serverRandom = r.bytes(32);
  r.vector(1);
  const suite = r.u16();
  r.u8();
  const extensions: { type: number; data: Uint8Array }[] = [];
  if (r.remaining > 0) {
    const e = new ByteReader(r.vector(2));
    while (e.remaining > 0) extensions.push({ type: e.u16(), data: e.vector(2) });
  }
  return { clientRandom: random, serverRandom, suite, extensions, msgs };
}

function waitForLine(child: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`server did not start: ${buf}`)), 10_000);
    const on = (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
  });
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
  const { port } = s.address();
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

describe('interop with real DTLS 1.2 servers', () => {
  for (const [suite, cipher] of [
    [0xc02b, 'ECDHE-ECDSA-AES128-GCM-SHA256'],
    [0xc0ae, 'ECDHE-ECDSA-AES128-CCM8'],
  ] as const) {
    test(`RFC 4492 §5.4 / RFC 5246 §7.4.2: openssl s_server -dtls1_2 ${cipher}: chain, ServerKeyExchange and CertificateRequest parse and verify`, async () => {
      assertBinary('openssl');
      const child = spawn('openssl', ['s_server', '-dtls1_2', '-accept', '127.0.0.1:0', '-cert', 'leaf.pem', '-key', 'leaf.key',
        '-cert_chain', 'inter.pem', '-cipher', `${cipher}:@SECLEVEL=0`, '-Verify', '1'], { cwd: o.dir });
      children.push(child);
      const port = Number((await waitForLine(child, /ACCEPT 127\.0\.0\.1:(\d+)/))[1]);
      const options: EcdheClientOptions = { serverCertificateTypes: [0] };
      const f = await serverFlight(port, [suite], ecdheClientHelloExtensions(options));
      child.kill();
      assert.equal(f.suite, suite);
      const neg = readEcdheServerHello(f.extensions, options);
      assert.equal(neg.serverCertificateType, 0);
      const cert = parseCertificateMessage(f.msgs.get(11)!, 0);
      const peer = await authenticatePeer(cert, { trustStore: new InMemoryTrustStore([parseCertificate(o.der('root.pem'))]), now: Date.now() });
      assert.equal(peer.identity.id, 'device-001');
      const ske = parseEcdheServerKeyExchange(f.msgs.get(12)!);
      verifyEcdheServerKeyExchange(ske, { clientRandom: f.clientRandom, serverRandom: f.serverRandom, serverPublicKey: peer.publicKey });
      const req = parseCertificateRequest(f.msgs.get(13)!);
      assert.ok(req.certificateTypes.includes(64), 'ecdsa_sign');
      assert.ok(req.signatureAlgorithms.some((a) => a.hash === 4 && a.signature === 3), 'ecdsa/sha256');
    });
  }

  test('RFC 7250 §3/§4: gnutls-serv --udp with a raw public key: server_certificate_type and the SPKI Certificate', async () => {
    assertBinary('gnutls-serv');
    o.run(['pkey', '-in', 'leaf.key', '-pubout', '-out', 'leaf.pub']);
    const port = await freeUdpPort();
    const child = spawn('gnutls-serv', ['--udp', '-p', String(port), '--rawpkkeyfile', 'leaf.key', '--rawpkfile', 'leaf.pub',
      '--priority', 'NORMAL:+CTYPE-SRV-RAWPK:+CTYPE-CLI-RAWPK:+CTYPE-SRV-X509'], { cwd: o.dir });
    children.push(child);
    await waitForLine(child, /listening/);
    const options: EcdheClientOptions = { serverCertificateTypes: [2] };
    const exts = ecdheClientHelloExtensions(options);
    assert.ok(exts.some((e) => e.type === 20));
    const f = await serverFlight(port, [0xc02b, 0xc0ae], exts);
    child.kill();
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
