import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerAddress } from '@m2mhub/core';
import { fakeNet, flush } from './fake-net';
import { text } from './helpers';

test('RFC 7641 §4.1/§4.2: our server accepts an observation, notifies (NON and CON), sees passive and active cancels', async () => {
  const net = fakeNet(51);
  const resets: string[] = [];
  const server = await net.endpoint({ hooks: { onNotificationReset: (_p, token) => resets.push(Buffer.from(token).toString('hex')) } });
  const client = await net.endpoint();
  let observer: { peer: PeerAddress; token: Uint8Array } | undefined;
  const observeValues: (number | undefined)[] = [];
  server.route('GET', '/3/0/13', (req) => {
    observeValues.push(req.observe);
    if (req.observe === 0) observer = { peer: req.peer, token: req.message.token };
    if (req.observe === 1) observer = undefined;
    return { code: '2.05', contentFormat: 0, payload: text('t0'), ...(req.observe === 0 ? { observe: 1 } : {}) };
  });
  const seen: string[] = [];
  const obs = await net.drive(client.observe(server.address(), { method: 'GET', path: '/3/0/13' }, { onNotify: (r) => seen.push(Buffer.from(r.payload).toString()) }));
  assert.equal(obs.first.observe, 1);
  assert.ok(observer);
  assert.equal(await server.notify(observer.peer, observer.token, 2, { code: '2.05', payload: text('t2') }), 'sent');
  assert.equal(await net.drive(server.notify(observer.peer, observer.token, 3, { code: '2.05', payload: text('t3') }, { confirmable: true })), 'acked');
  await net.drive(flush());
  assert.deepEqual(seen, ['t2', 't3']);
  // Active cancel: GET with Observe=1 reaches the handler.
  const res = await net.drive(obs.cancel('active'));
  assert.equal(res?.code, '2.05');
  assert.deepEqual(observeValues, [0, 1]);
  // Passive cancel: the client RSTs the next notification, CON or NON.
  const obs2 = await net.drive(client.observe(server.address(), { method: 'GET', path: '/3/0/13' }, { onNotify: (r) => seen.push(Buffer.from(r.payload).toString()) }));
  const o2 = observer!;
  await obs2.cancel('passive');
  assert.equal(await net.drive(server.notify(o2.peer, o2.token, 5, { code: '2.05', payload: text('x') }, { confirmable: true })), 'reset');
  await server.notify(o2.peer, o2.token, 6, { code: '2.05', payload: text('y') });
  net.scheduler.advance(10);
  await flush();
  assert.deepEqual(resets, [Buffer.from(o2.token).toString('hex')]);
  assert.deepEqual(seen, ['t2', 't3']);
});

test('RFC 7959 §2.6: a notification larger than a block is completed by the client with GETs', async () => {
  const net = fakeNet(53);
  const server = await net.endpoint({ limits: { blockSize: 64 } });
  const client = await net.endpoint();
  const big = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  let observer: { peer: PeerAddress; token: Uint8Array } | undefined;
  server.route('GET', '/big', (req) => {
    if (req.observe === 0) observer = { peer: req.peer, token: req.message.token };
    return { code: '2.05', payload: big, ...(req.observe === 0 ? { observe: 1 } : {}) };
  });
  const got: Uint8Array[] = [];
  const obs = await net.drive(client.observe(server.address(), { method: 'GET', path: '/big' }, { onNotify: (r) => got.push(r.payload) }));
  assert.deepEqual(obs.first.payload, big);
  await server.notify(observer!.peer, observer!.token, 2, { code: '2.05', payload: big });
  await net.drive(new Promise((r) => setTimeout(r, 50)));
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], big);
});
