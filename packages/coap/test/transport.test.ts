import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Datagram } from '@m2mhub/core';
import { CoapEndpoint } from '../src/endpoint';
import { UdpTransport } from '../src/udp-transport';
import { fakeNet, flush } from './fake-net';
import { str, text } from './helpers';

test('UdpTransport: IPv6 (udp6 on ::1, port 0) carries CoAP both ways', async () => {
  const server = new CoapEndpoint({ transport: new UdpTransport({ type: 'udp6', address: '::1', port: 0 }) });
  const client = new CoapEndpoint({ transport: new UdpTransport({ type: 'udp6', address: '::1', port: 0 }) });
  await server.start();
  await client.start();
  try {
    assert.equal(server.address().family, 'IPv6');
    assert.ok(server.address().port > 0);
    let peerKey = '';
    server.route('GET', '/v6', (req) => {
      peerKey = req.peerKey;
      return { code: '2.05', payload: text(req.peer.family) };
    });
    const res = await client.request(server.address(), { method: 'GET', path: '/v6' });
    assert.equal(str(res.payload), 'IPv6');
    assert.match(peerKey, /^\[::1\]:\d+$/);
  } finally {
    await client.close();
    await server.close();
  }
});

test('EndpointHooks.onActivity sees every parsed datagram, including duplicates and pings', async () => {
  const net = fakeNet(61, { duplicate: 1 });
  const seen: string[] = [];
  const server = await net.endpoint({ hooks: { onActivity: (d: Datagram, m) => seen.push(`${d.peerKey} ${m.type} ${m.code}`) } });
  const client = await net.endpoint();
  server.route('GET', '/a', () => ({ code: '2.05' }));
  await net.drive(client.request(server.address(), { method: 'GET', path: '/a' }));
  assert.ok(seen.filter((s) => s.endsWith('CON 0.01')).length >= 2, seen.join('|'));
});

test('RFC 7959: concurrent Block1 transfers are bounded (5.03 when full) and expire', async () => {
  const net = fakeNet(63);
  const server = await net.endpoint({ limits: { maxConcurrentTransfers: 1, transferExpiryMs: 10_000, blockSize: 16 } });
  server.route('PUT', '/up', (req) => ({ code: '2.04', payload: text(String(req.payload.length)) }));
  const a = await net.endpoint({ limits: { blockSize: 16 } });
  const b = await net.endpoint({ limits: { blockSize: 16 } });
  // a starts a transfer and goes silent after the first block.
  let drop = false;
  net.network.dropIf = (from) => drop && from.address === a.address().address;
  const pa = a.request(server.address(), { method: 'PUT', path: '/up', payload: new Uint8Array(40), timeoutMs: 500 });
  pa.catch(() => {});
  net.scheduler.advance(5);
  await flush();
  drop = true;
  const busy = await net.drive(b.request(server.address(), { method: 'PUT', path: '/up', payload: new Uint8Array(40) }));
  assert.equal(busy.code, '5.03');
  net.scheduler.advance(11_000);
  await flush();
  const ok = await net.drive(b.request(server.address(), { method: 'PUT', path: '/up', payload: new Uint8Array(40) }));
  assert.equal(ok.code, '2.04');
  assert.equal(str(ok.payload), '40');
});

test('UdpTransport: the peer cache gives every datagram of a peer the same PeerAddress and peerKey, and stays bounded', async () => {
  const { createSocket } = await import('node:dgram');
  const t = new UdpTransport({ address: '127.0.0.1', port: 0, peerCacheSize: 2 });
  const got: Datagram[] = [];
  t.onDatagram((d) => got.push(d));
  await t.start();
  const socks = [createSocket('udp4'), createSocket('udp4'), createSocket('udp4')];
  try {
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
    const port = t.address().port;
    // Two rounds from three peers: the third peer overflows a cache of 2, which is emptied.
    for (let round = 0; round < 2; round++) {
      for (const s of socks) await new Promise<void>((r) => s.send(Uint8Array.of(round), port, '127.0.0.1', () => r()));
    }
    const deadline = Date.now() + 2000;
    while (got.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(got.length, 6);
    for (const d of got) {
      assert.equal(d.peerKey, `${d.peer.address}:${d.peer.port}`);
      assert.equal(d.peer.family, 'IPv4');
      assert.ok(Object.isFrozen(d.peer));
    }
    const ports = socks.map((s) => s.address().port);
    assert.deepEqual(
      got.map((d) => d.peer.port),
      [...ports, ...ports],
    );
  } finally {
    for (const s of socks) s.close();
    await t.close();
  }
});
