import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectDtls } from '../src/client';
import { loadPemCredentials } from '../src/pki/index';
import { createDtlsTransport, type DtlsTransport } from '../src/transport';
import { freeUdpPort, requireBinary, run, sleep } from './helpers/peers';
import { makePki, OpensslDir } from './pki-openssl';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('interop: openssl s_client with ECDHE_ECDSA (P-256) against our server', () => {
  let pki: OpensslDir;
  let anon: DtlsTransport;
  let mutual: DtlsTransport;
  const seen: unknown[] = [];
  before(async () => {
    requireBinary('openssl');
    pki = makePki();
    // Server certificate: device-direct, signed by the test root; the client verifies it with -CAfile root.pem.
    const credentials = loadPemCredentials(pki.text('direct.pem'), pki.text('direct.key'));
    anon = createDtlsTransport({ certificatePem: pki.text('direct.pem'), privateKeyPem: pki.text('direct.key') });
    mutual = createDtlsTransport({ credentials, trustStore: { anchors: () => [pki.der('root.pem')] } });
    for (const t of [anon, mutual]) {
      t.onDatagram((d) => {
        seen.push(d.identity);
        t.send(enc.encode(`echo:${dec.decode(d.data)}:${d.identity?.endpoint ?? 'anonymous'}`), d.peer);
      });
      await t.start();
    }
  });
  after(async () => {
    await anon.close();
    await mutual.close();
    pki.cleanup();
  });

  for (const cipher of ['ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-AES128-GCM-SHA256']) {
    it(`RFC 7251 / RFC 4492: ${cipher}, server X.509 certificate verified by openssl`, async () => {
      const c = run('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${anon.address().port}`, '-cipher', cipher,
        '-CAfile', pki.path('root.pem'), '-verify_return_error', '-quiet']);
      try {
        await sleep(300);
        c.proc.stdin?.write('ecdhe\n');
        await c.waitFor(/echo:ecdhe\n:anonymous/);
      } finally {
        await c.kill();
      }
    });
  }

  it('RFC 5246 §7.4.6: a client X.509 certificate chained to the trust store gives identity CN = endpoint', async () => {
    const c = run('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${mutual.address().port}`, '-cipher', 'ECDHE-ECDSA-AES128-CCM8',
      '-CAfile', pki.path('root.pem'), '-cert', pki.path('leaf.pem'), '-key', pki.path('leaf.key'), '-cert_chain', pki.path('inter.pem'), '-quiet']);
    try {
      await sleep(300);
      c.proc.stdin?.write('mutual\n');
      await c.waitFor(/echo:mutual\n:device-001/);
      assert.deepEqual(seen.at(-1), { kind: 'x509', id: 'device-001', endpoint: 'device-001' });
    } finally {
      await c.kill();
    }
  });

  it('RFC 5246 §7.2.2: a client certificate of another root is refused with unknown_ca', async () => {
    const c = run('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${mutual.address().port}`, '-cipher', 'ECDHE-ECDSA-AES128-CCM8',
      '-CAfile', pki.path('root.pem'), '-cert', pki.path('otherleaf.pem'), '-key', pki.path('otherleaf.key')]);
    try {
      await c.waitFor(/alert unknown ca/, 10_000);
    } finally {
      await c.kill();
    }
  });
});

describe('interop: coap-client-gnutls with a raw public key (RFC 7250)', () => {
  it('RFC 7250 §4: the client raw public key is matched against the store and names the endpoint', async () => {
    requireBinary('coap-client-gnutls');
    const { CoapEndpoint } = await import('@m2mhub/coap');
    const { InMemoryRawPublicKeyStore, rawKeyCredentials } = await import('../src/pki/index');
    const o = new OpensslDir();
    try {
      o.run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'rpk.pem']);
      o.run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'other.pem']);
      const spki = new Uint8Array(o.run(['pkey', '-in', 'rpk.pem', '-pubout', '-outform', 'DER']));
      const rpkStore = new InMemoryRawPublicKeyStore();
      const fp = rpkStore.add(spki, 'urn:rpk:1');
      const serverKey = new Uint8Array(32).fill(7);
      const t = createDtlsTransport({ credentials: rawKeyCredentials(serverKey), rpkStore });
      const ep = new CoapEndpoint({ transport: t });
      let seen: unknown;
      ep.route('GET', '/hello', (req) => {
        seen = req.identity;
        return { code: '2.05', payload: enc.encode(`hi ${req.identity?.endpoint}`) };
      });
      await ep.start();
      try {
        const url = `coaps://127.0.0.1:${t.address().port}/hello`;
        const good = run('coap-client-gnutls', ['-M', o.path('rpk.pem'), '-B', '5', url]);
        await good.waitFor(/hi urn:rpk:1/);
        await good.kill();
        assert.deepEqual(seen, { kind: 'rpk', id: fp, endpoint: 'urn:rpk:1' });
        // An unregistered key gets no answer (bad_certificate ends the handshake).
        seen = undefined;
        const bad = run('coap-client-gnutls', ['-M', o.path('other.pem'), '-B', '2', url]);
        await new Promise((r) => bad.proc.once('exit', r));
        assert.equal(seen, undefined);
        assert.doesNotMatch(bad.out(), /hi urn/);
      } finally {
        await ep.close();
      }
    } finally {
      o.cleanup();
    }
  });
});

describe('our ECDHE_ECDSA client', () => {
  let pki: OpensslDir;
  before(() => {
    pki = makePki();
  });
  after(() => pki.cleanup());

  for (const [cipher, id] of [
    ['ECDHE-ECDSA-AES128-CCM8', 0xc0ae],
    ['ECDHE-ECDSA-AES128-GCM-SHA256', 0xc02b],
  ] as const) {
    it(`RFC 4492 §2.2: ${cipher} against openssl s_server, server certificate checked against our trust store`, async () => {
      requireBinary('openssl');
      const port = await freeUdpPort();
      const s = run('openssl', ['s_server', '-dtls1_2', '-accept', String(port), '-cert', pki.path('direct.pem'), '-key', pki.path('direct.key'), '-cipher', cipher]);
      try {
        await s.waitFor(/ACCEPT/);
        const c = await connectDtls({ port, cipherSuites: [id], ecdhe: { trustStore: { anchors: () => [pki.der('root.pem')] } } });
        assert.deepEqual(c.client.conn.identity, { kind: 'x509', id: 'device-direct', endpoint: 'device-direct' });
        c.send(enc.encode('ecdhe-client\n'));
        await s.waitFor(/ecdhe-client/);
        c.close();
      } finally {
        await s.kill();
      }
    });
  }

  it('RFC 5246 §7.4.2: a server certificate from an untrusted root fails the handshake (unknown_ca)', async () => {
    const port = await freeUdpPort();
    const s = run('openssl', ['s_server', '-dtls1_2', '-accept', String(port), '-cert', pki.path('otherleaf.pem'), '-key', pki.path('otherleaf.key')]);
    try {
      await s.waitFor(/ACCEPT/);
      await assert.rejects(connectDtls({ port, ecdhe: { trustStore: { anchors: () => [pki.der('root.pem')] } }, timeoutMs: 5000 }), /M2M_DTLS_PKI_UNKNOWN_CA|trusted root/);
      await s.waitFor(/alert unknown ca/);
    } finally {
      await s.kill();
    }
  });

  it('RFC 5246 §7.4.6 / §7.4.8: mutual X.509 authentication between our client and our server', async () => {
    const t = createDtlsTransport({
      credentials: loadPemCredentials(pki.text('direct.pem'), pki.text('direct.key')),
      trustStore: { anchors: () => [pki.der('root.pem')] },
    });
    const ids: unknown[] = [];
    t.onDatagram((d) => {
      ids.push(d.identity);
      t.send(d.data, d.peer);
    });
    await t.start();
    try {
      const leaf = loadPemCredentials(pki.text('leaf.pem') + pki.text('inter.pem'), pki.text('leaf.key'));
      const c = await connectDtls({ port: t.address().port, ecdhe: { trustStore: { anchors: () => [pki.der('root.pem')] }, credentials: leaf } });
      const got = new Promise<Uint8Array>((r) => c.onData(r));
      c.send(enc.encode('both'));
      assert.equal(dec.decode(await got), 'both');
      assert.deepEqual(ids[0], { kind: 'x509', id: 'device-001', endpoint: 'device-001' });
      c.close();
    } finally {
      await t.close();
    }
  });
});
