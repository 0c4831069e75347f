/**
 * Wire tests against Debian's libcoap (coap-server-openssl / coap-client-openssl, libcoap3-bin).
 * They fail when the binaries are missing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ClientResponse } from '../src/api';
import type { CoapEndpoint } from '../src/endpoint';
import { type LibcoapServer, coapClient, requireBinary, startLibcoapServer, str, text, udpEndpoint } from './helpers';

describe('our client -> libcoap coap-server-openssl', () => {
  let server: LibcoapServer;
  let client: CoapEndpoint;
  before(async () => {
    server = await startLibcoapServer(['-d', '10']);
    client = await udpEndpoint();
  });
  after(async () => {
    await client.close();
    await server.stop();
  });

  test('RFC 7252 §5.8.1: GET /time and / answer 2.05', async () => {
    const t = await client.request(server.peer, { method: 'GET', path: '/time' });
    assert.equal(t.code, '2.05');
    assert.match(str(t.payload), /\d\d:\d\d/);
    const root = await client.request(server.peer, { method: 'GET', path: '/' });
    assert.equal(root.code, '2.05');
    assert.match(str(root.payload), /libcoap/);
  });

  test('RFC 7252 §5.8.2-5.8.4: PUT, POST and DELETE on libcoap resources', async () => {
    const put = await client.request(server.peer, { method: 'PUT', path: '/example_data', payload: text('hello'), contentFormat: 0 });
    assert.match(put.code, /^2\.0[14]$/);
    const got = await client.request(server.peer, { method: 'GET', path: '/example_data' });
    assert.equal(str(got.payload), 'hello');
    const post = await client.request(server.peer, { method: 'POST', path: '/example_data', payload: text('x') });
    assert.equal(post.code, '4.05');
    const created = await client.request(server.peer, { method: 'PUT', path: '/dyn1', payload: text('d') });
    assert.equal(created.code, '2.01');
    const del = await client.request(server.peer, { method: 'DELETE', path: '/dyn1' });
    assert.equal(del.code, '2.02');
    const gone = await client.request(server.peer, { method: 'GET', path: '/dyn1' });
    assert.equal(gone.code, '4.04');
  });

  test('RFC 7959 §2.5/§2.4: PUT a 300 KiB body by Block1, GET it back by Block2', async () => {
    const body = new Uint8Array(randomBytes(300 * 1024));
    const put = await client.request(server.peer, { method: 'PUT', path: '/example_data', payload: body, contentFormat: 42 });
    assert.match(put.code, /^2\.0[14]$/);
    const got = await client.request(server.peer, { method: 'GET', path: '/example_data' });
    assert.equal(got.code, '2.05');
    assert.equal(got.payload.length, body.length);
    assert.deepEqual(got.payload, body);
  });

  test('RFC 7641 §3.3/§3.6: observe /time, receive notifications, cancel actively and passively', async () => {
    const seen: ClientResponse[] = [];
    let ended: string | undefined;
    const obs = await client.observe(server.peer, { method: 'GET', path: '/time' }, {
      onNotify: (r) => seen.push(r),
      onEnd: (reason) => {
        ended = reason;
      },
    });
    assert.equal(obs.first.code, '2.05');
    assert.equal(typeof obs.first.observe, 'number');
    // libcoap's /time notifies every second.
    const deadline = Date.now() + 6000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(seen.length >= 2, `got ${seen.length} notifications`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.observe! > seen[i - 1]!.observe!);
    const res = await obs.cancel('active');
    assert.equal(res?.code, '2.05');
    assert.equal(res?.observe, undefined);
    assert.equal(ended, 'cancelled');
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(seen.length, n, 'no notification after an active cancel');

    // Passive: forget the token; the next notification gets RST and libcoap drops us.
    const seen2: ClientResponse[] = [];
    const obs2 = await client.observe(server.peer, { method: 'GET', path: '/time' }, { onNotify: (r) => seen2.push(r) });
    await obs2.cancel('passive');
    const rstBefore = client.stats().rstSent;
    const d2 = Date.now() + 5000;
    while (client.stats().rstSent === rstBefore && Date.now() < d2) await new Promise((r) => setTimeout(r, 100));
    assert.ok(client.stats().rstSent > rstBefore, 'RST sent for the notification of a forgotten token');
    assert.equal(seen2.length, 0);
  });
});

describe('libcoap coap-client-openssl -> our server', () => {
  let server: CoapEndpoint;
  let dir: string;
  const store = new Map<string, Uint8Array>();
  const big = new Uint8Array(randomBytes(1024 * 1024));
  before(async () => {
    requireBinary('coap-client-openssl');
    dir = mkdtempSync(join(tmpdir(), 'coap-test-'));
    server = await udpEndpoint({ limits: { maxBodySize: 2 * 1024 * 1024 } });
    server.route('GET', '/hello', () => ({ code: '2.05', contentFormat: 0, payload: text('hello from m2mhub') }));
    server.route('GET', '/big', () => ({ code: '2.05', contentFormat: 42, payload: big }));
    server.route('GET', '/store/:k', (req) => {
      const v = store.get(req.params!.k!);
      return v ? { code: '2.05', payload: v } : { code: '4.04' };
    });
    server.route('PUT', '/store/:k', (req) => {
      const existed = store.has(req.params!.k!);
      store.set(req.params!.k!, req.payload);
      return { code: existed ? '2.04' : '2.01' };
    });
    server.route('POST', '/echo', (req) => ({ code: '2.04', payload: req.payload }));
    server.route('DELETE', '/store/:k', (req) => ({ code: store.delete(req.params!.k!) ? '2.02' : '4.04' }));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const uri = (p: string) => `coap://127.0.0.1:${server.address().port}${p}`;

  test('RFC 7252 §5.8: GET, PUT, POST, DELETE from coap-client', async () => {
    const get = await coapClient(['-m', 'get', uri('/hello')]);
    assert.equal(get.stdout.trim(), 'hello from m2mhub');
    const put = await coapClient(['-m', 'put', '-e', 'v1', uri('/store/a')]);
    assert.equal(put.code, 0);
    assert.deepEqual(store.get('a'), text('v1'));
    const post = await coapClient(['-m', 'post', '-e', 'ping', uri('/echo')]);
    assert.equal(post.stdout.trim(), 'ping');
    const del = await coapClient(['-m', 'delete', '-v', '6', uri('/store/a')]);
    assert.match(del.stdout + del.stderr, /2\.02/);
    assert.equal(store.has('a'), false);
    const missing = await coapClient(['-m', 'get', uri('/nothing')]);
    assert.match(missing.stdout + missing.stderr, /4\.04/);
  });

  test('RFC 7959 §2.5: coap-client PUTs 1 MiB by Block1 (-b 1024); we reassemble it', async () => {
    const f = join(dir, 'up.bin');
    writeFileSync(f, big);
    const r = await coapClient(['-m', 'put', '-b', '1024', '-f', f, uri('/store/fw')], 60_000);
    assert.equal(r.code, 0, r.stderr);
    const got = store.get('fw');
    assert.ok(got, 'body stored');
    assert.equal(got.length, big.length);
    assert.ok(Buffer.from(got).equals(Buffer.from(big)));
  });

  test('RFC 7959 §2.4: coap-client GETs 1 MiB served by Block2 (with ETag and Size2)', async () => {
    const f = join(dir, 'down.bin');
    const r = await coapClient(['-m', 'get', '-b', '1024', '-o', f, uri('/big')], 60_000);
    assert.equal(r.code, 0, r.stderr);
    const got = readFileSync(f);
    assert.equal(got.length, big.length);
    assert.ok(got.equals(Buffer.from(big)));
  });
});
