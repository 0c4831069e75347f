import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapEndpoint } from '@m2mhub/coap';
import { connectDtls } from '../src/client';
import { memoryPskStore } from '../src/stores';
import { createDtlsTransport } from '../src/transport';
import { freeUdpPort, requireBinary, run } from './helpers/peers';

const KEY = 'lwm2m-secret-key';
const enc = new TextEncoder();
const dec = new TextDecoder();

describe('interop: libcoap over DTLS (PSK)', () => {
  it('RFC 7252 §9 / RFC 4279: coap-client-openssl GETs a resource from our CoapEndpoint over our DTLS transport', async () => {
    requireBinary('coap-client-openssl');
    const t = createDtlsTransport({ pskStore: memoryPskStore({ 'dev-7': { key: enc.encode(KEY), endpoint: 'urn:dev:7' } }) });
    const ep = new CoapEndpoint({ transport: t });
    let seen: unknown;
    ep.route('GET', '/hello', (req) => {
      seen = req.identity;
      return { code: '2.05', payload: enc.encode(`hi ${req.identity?.endpoint}`) };
    });
    await ep.start();
    try {
      const c = run('coap-client-openssl', ['-k', KEY, '-u', 'dev-7', '-B', '5', `coaps://127.0.0.1:${t.address().port}/hello`]);
      await c.waitFor(/hi urn:dev:7/);
      await c.kill();
      assert.deepEqual(seen, { kind: 'psk', id: 'dev-7', endpoint: 'urn:dev:7' });
    } finally {
      await ep.close();
    }
  });

  it('RFC 7252 §9: our client GETs / from coap-server-openssl -k key -h identity', async () => {
    requireBinary('coap-server-openssl');
    const port = await freeUdpPort(true);
    const s = run('coap-server-openssl', ['-A', '127.0.0.1', '-p', String(port), '-k', KEY, '-h', 'hint-id']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      // libcoap listens for coaps on port + 1.
      const c = await connectDtls({ port: port + 1, psk: { identity: 'dev-7', key: enc.encode(KEY) } });
      const got = new Promise<Uint8Array>((r) => c.onData(r));
      // CON GET / with message id 0x1234 and a 1-byte token.
      c.send(new Uint8Array([0x41, 0x01, 0x12, 0x34, 0xab]));
      const res = await got;
      assert.equal(res[1], 0x45, '2.05 Content');
      assert.equal(res[2], 0x12);
      assert.equal(res[3], 0x34);
      assert.match(dec.decode(res), /libcoap/i);
      c.close();
    } finally {
      await s.kill();
    }
  });
});

describe('interop: node-dtls-client (npm) against our server', () => {
  it('RFC 4279: node-dtls-client with PSK completes the handshake and exchanges data', async () => {
    const { dtls } = await import('node-dtls-client');
    const t = createDtlsTransport({ pskStore: memoryPskStore({ 'node-id': { key: enc.encode(KEY) } }) });
    t.onDatagram((d) => t.send(enc.encode(`echo:${dec.decode(d.data)}`), d.peer));
    await t.start();
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = dtls.createSocket({
          type: 'udp4',
          address: '127.0.0.1',
          port: t.address().port,
          psk: { 'node-id': KEY },
          timeout: 5000,
        } as Parameters<typeof dtls.createSocket>[0]);
        sock.on('connected', () => sock.send(Buffer.from('ndc')));
        sock.on('message', (m: Buffer) => {
          resolve(m.toString());
          sock.close();
        });
        sock.on('error', reject);
      });
      assert.equal(reply, 'echo:ndc');
    } finally {
      await t.close();
    }
  });
});
