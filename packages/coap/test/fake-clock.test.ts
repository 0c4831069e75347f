/** Protocol behaviour on the in-memory network with a fake clock (FakeScheduler + SeededRandom). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Datagram } from '@m2mhub/core';
import type { ClientResponse, CoapMessage } from '../src/api';
import { serializeMessage } from '../src/codec';
import { CoapErrors } from '../src/errors';
import { OptionNumber as O, encodeUint, uintOption } from '../src/options';
import { decoded, fakeNet, flush } from './fake-net';

const bytes = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

test('RFC 7252 §4.2: CON retransmitted at ACK_TIMEOUT*[1, 1.5) then doubling, gives up after MAX_RETRANSMIT', async () => {
  const { network, endpoint, drive, scheduler } = fakeNet(3);
  const client = await endpoint();
  const sink = network.transport('10.9.9.9');
  await sink.start();
  const p = client.request(sink.address(), { method: 'GET', path: '/x', timeoutMs: 200_000 });
  let failedAt = 0;
  await assert.rejects(
    drive(p.finally(() => (failedAt = scheduler.now()))),
    (e) => CoapErrors.timeout.is(e),
  );
  const sends = network.trace.filter((t) => t.to.address === '10.9.9.9').map((t) => t.at);
  assert.equal(sends.length, 5, '1 transmission + MAX_RETRANSMIT (4) retransmissions');
  const first = sends[1]! - sends[0]!;
  assert.ok(first >= 2000 && first < 3000, `initial timeout ${first}`);
  for (let i = 2; i < sends.length; i++) assert.ok(Math.abs(sends[i]! - sends[i - 1]! - first * 2 ** (i - 1)) <= 10);
  // Gives up when the last timeout (16 * initial) expires: 31 * initial after the first send.
  assert.ok(Math.abs(failedAt - sends[0]! - 31 * first) <= 10, `gave up at ${failedAt}`);
  assert.ok(failedAt - sends[0]! <= client.params.maxTransmitWaitMs);
  assert.equal(client.stats().exchanges, 0);
});

test('RFC 7252 §4.8.2: derived parameters follow their formulas', async () => {
  const { endpoint } = fakeNet();
  const ep = await endpoint();
  const p = ep.params;
  assert.equal(p.maxTransmitSpanMs, 45_000);
  assert.equal(p.maxTransmitWaitMs, 93_000);
  assert.equal(p.maxRttMs, 202_000);
  assert.equal(p.exchangeLifetimeMs, 247_000);
  assert.equal(p.nonLifetimeMs, 145_000);
});

test('RFC 7252 §4.5: under duplication the handler runs once and the response is replayed', async () => {
  const { endpoint, drive, network } = fakeNet(5, { duplicate: 1 });
  const server = await endpoint();
  const client = await endpoint();
  let calls = 0;
  server.route('POST', '/count', () => ({ code: '2.04', payload: new Uint8Array([++calls]) }));
  const res = await drive(client.request(server.address(), { method: 'POST', path: '/count' }));
  assert.equal(res.code, '2.04');
  assert.equal(calls, 1);
  assert.ok(server.stats().duplicates >= 1);
  // A lost ACK: the client retransmits and the server replays the cached piggybacked response.
  let dropped = 0;
  network.conditions.duplicate = 0;
  network.dropIf = (from) => from.address === server.address().address && dropped++ === 0;
  const res2 = await drive(client.request(server.address(), { method: 'POST', path: '/count' }));
  assert.equal(res2.payload[0], 2);
  assert.equal(calls, 2);
  assert.equal(client.stats().retransmissions, 1);
});

test('RFC 7252 §5.2.2: separate response after the configured delay, duplicate CON gets the empty ACK again', async () => {
  const { endpoint, drive, scheduler, network } = fakeNet(9);
  const server = await endpoint({ limits: { separateResponseDelayMs: 500 } });
  const client = await endpoint();
  server.route('GET', '/slow', () => new Promise((r) => scheduler.setTimeout(() => r({ code: '2.05', payload: bytes(4) }), 5000)));
  const res = await drive(client.request(server.address(), { method: 'GET', path: '/slow' }));
  assert.equal(res.code, '2.05');
  assert.equal(res.message.type, 'CON');
  const fromServer = network.trace.filter((t) => t.from.address === server.address().address).map((t) => decoded(t.data));
  assert.equal(fromServer[0]!.type, 'ACK');
  assert.equal(fromServer[0]!.code, '0.00');
  assert.equal(fromServer[1]!.type, 'CON');
  assert.equal(server.stats().exchanges, 0, 'separate response acknowledged');
});

test('RFC 7252 §4.7: NSTART=1 queues a second request to the same peer; limits raise a typed error', async () => {
  const { endpoint, drive, network } = fakeNet(11);
  const server = await endpoint();
  const client = await endpoint({ limits: { maxExchangesPerPeer: 2 } });
  server.route('GET', '/a', () => ({ code: '2.05' }));
  const p1 = client.request(server.address(), { method: 'GET', path: '/a' });
  const p2 = client.request(server.address(), { method: 'GET', path: '/a' });
  assert.equal(network.stats.sent, 1, 'second request waits for the first');
  await assert.rejects(client.request(server.address(), { method: 'GET', path: '/a' }), (e) => CoapErrors.tooManyExchanges.is(e));
  const [r1, r2] = await drive(Promise.all([p1, p2]));
  assert.equal(r1.code, '2.05');
  assert.equal(r2.code, '2.05');
});

test('RFC 7252 §4.2/§5.4.1: malformed CON gets RST, unknown critical option gets 4.02, bad NON is dropped', async () => {
  const { endpoint, network, scheduler } = fakeNet(13);
  const server = await endpoint();
  const raw = network.transport();
  await raw.start();
  const got: CoapMessage[] = [];
  raw.onDatagram((d: Datagram) => got.push(decoded(d.data)));
  server.route('GET', '/a', () => ({ code: '2.05' }));
  // CON, TKL 9 (reserved): RST.
  raw.send(Uint8Array.of(0x49, 0x01, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 9), server.address());
  // CON GET with critical option 9 (OSCORE, not supported): 4.02.
  raw.send(
    serializeMessage({ type: 'CON', code: '0.01', messageId: 0x2222, token: Uint8Array.of(1), options: [{ number: 9, value: new Uint8Array(0) }], payload: new Uint8Array(0) }),
    server.address(),
  );
  // NON with truncated option: dropped.
  raw.send(Uint8Array.of(0x50, 0x01, 0x00, 0x01, 0xd1), server.address());
  scheduler.advance(10);
  await flush();
  assert.equal(got.length, 2);
  const rst = got.find((m) => m.type === 'RST')!;
  assert.equal(rst.messageId, 0x1234);
  const bad = got.find((m) => m.type === 'ACK')!;
  assert.equal(bad.code, '4.02');
  assert.equal(bad.messageId, 0x2222);
  const st = server.stats();
  assert.equal(st.formatErrors, 2);
  assert.equal(st.badOptions, 1);
});

/** A device that answers Observe=0 and then sends the notifications it is told to. */
async function notifyingDevice(net: ReturnType<typeof fakeNet>) {
  const dev = net.network.transport();
  await dev.start();
  let token: Uint8Array = new Uint8Array(0);
  let clientAddr: Datagram['peer'] | undefined;
  let mid = 100;
  const received: CoapMessage[] = [];
  dev.onDatagram((d) => {
    const m = decoded(d.data);
    received.push(m);
    if (m.code === '0.01') {
      token = m.token;
      clientAddr = d.peer;
      dev.send(
        serializeMessage({ type: 'ACK', code: '2.05', messageId: m.messageId, token, options: [uintOption(O.Observe, 1)], payload: Uint8Array.of(1) }),
        d.peer,
      );
    }
  });
  const notify = (seq: number, type: 'CON' | 'NON' = 'NON', extra: CoapMessage['options'] = [], code = '2.05') =>
    dev.send(
      serializeMessage({ type, code, messageId: mid++, token, options: [{ number: O.Observe, value: encodeUint(seq) }, ...extra], payload: encodeUint(seq) }),
      clientAddr!,
    );
  return { dev, notify, received, tokenOf: () => token };
}

test('RFC 7641 §3.4: notifications under reordering are delivered in order (stale ones dropped)', async () => {
  const net = fakeNet(17, { reorder: 0.6, reorderWindowMs: 80 });
  const client = await net.endpoint();
  const device = await notifyingDevice(net);
  const seen: number[] = [];
  const obs = await net.drive(client.observe(device.dev.address(), { method: 'GET', path: '/3/0/13' }, { onNotify: (r) => seen.push(r.observe!) }));
  assert.equal(obs.first.observe, 1);
  for (let s = 2; s <= 60; s++) {
    device.notify(s);
    net.scheduler.advance(10);
  }
  net.scheduler.advance(200);
  await flush();
  assert.ok(seen.length > 10);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `in order: ${seen.join(',')}`);
  assert.equal(seen.at(-1), 60);
  assert.ok(client.stats().staleNotifications > 0, 'some reordered notifications were stale');
  // §3.4: after 128 s a lower sequence number is fresh again; across the 2^24 wrap too.
  net.network.conditions.reorder = 0;
  net.scheduler.advance(129_000);
  device.notify(5);
  net.scheduler.advance(10);
  await flush();
  assert.equal(seen.at(-1), 5);
  device.notify((1 << 24) - 2);
  net.scheduler.advance(10);
  device.notify(3);
  net.scheduler.advance(10);
  await flush();
  assert.equal(seen.at(-1), 5, '2^24-2 is older than 5 (window 2^23)');
});

test('RFC 7641 §3.6: CON notifications are ACKed; passive cancel RSTs the next one; error code ends the observation', async () => {
  const net = fakeNet(19);
  const client = await net.endpoint();
  const device = await notifyingDevice(net);
  const ends: string[] = [];
  const obs = await net.drive(
    client.observe(device.dev.address(), { method: 'GET', path: '/a' }, { onNotify: () => {}, onEnd: (r) => ends.push(r) }),
  );
  device.notify(2, 'CON');
  net.scheduler.advance(10);
  await flush();
  assert.equal(device.received.at(-1)!.type, 'ACK');
  await obs.cancel('passive');
  device.notify(3, 'CON');
  net.scheduler.advance(10);
  await flush();
  assert.equal(device.received.at(-1)!.type, 'RST');
  assert.deepEqual(ends, ['cancelled']);
  // A fresh observation ended by 4.04.
  const ends2: string[] = [];
  await net.drive(client.observe(device.dev.address(), { method: 'GET', path: '/b' }, { onNotify: () => {}, onEnd: (r) => ends2.push(r) }));
  device.notify(2, 'NON', [], '4.04');
  net.scheduler.advance(10);
  await flush();
  assert.deepEqual(ends2, ['error']);
  assert.equal(client.stats().observations, 0);
});

test('RFC 7641 §3.3.1: an observation expires when Max-Age passes without a notification', async () => {
  const net = fakeNet(21);
  const client = await net.endpoint({ limits: { observeGraceMs: 1000 } });
  const device = await notifyingDevice(net);
  const ends: string[] = [];
  await net.drive(client.observe(device.dev.address(), { method: 'GET', path: '/a' }, { onNotify: () => {}, onEnd: (r) => ends.push(r) }));
  device.notify(2, 'NON', [uintOption(O.MaxAge, 30)]);
  net.scheduler.advance(30_000);
  await flush();
  assert.deepEqual(ends, []);
  net.scheduler.advance(1_100);
  assert.deepEqual(ends, ['expired']);
});

test('EndpointHooks.onUnmatchedNotification decides ACK or RST for a restored observation token', async () => {
  const net = fakeNet(23);
  const accepted: ClientResponse[] = [];
  const client = await net.endpoint({
    hooks: {
      onUnmatchedNotification: (res) => {
        accepted.push(res);
        return res.token[0] === 0xaa;
      },
    },
  });
  const dev = net.network.transport();
  await dev.start();
  const replies: CoapMessage[] = [];
  dev.onDatagram((d) => replies.push(decoded(d.data)));
  for (const t of [0xaa, 0xbb]) {
    dev.send(
      serializeMessage({ type: 'CON', code: '2.05', messageId: t, token: Uint8Array.of(t, 1, 2, 3), options: [uintOption(O.Observe, 9)], payload: Uint8Array.of(1) }),
      client.address(),
    );
  }
  net.scheduler.advance(10);
  await flush();
  assert.equal(accepted.length, 2);
  assert.deepEqual(
    replies.map((r) => [r.messageId, r.type]),
    [
      [0xaa, 'ACK'],
      [0xbb, 'RST'],
    ],
  );
});

test('RFC 7959: block-wise GET and PUT of 100 KiB complete under 20% loss', async () => {
  const net = fakeNet(29, { loss: 0.2 });
  const server = await net.endpoint();
  // 36% of round trips fail at 20% loss: 4 retransmissions would give up on ~1 of 200 blocks.
  const client = await net.endpoint({ transmission: { maxRetransmit: 10 } });
  const body = bytes(100 * 1024);
  let stored: Uint8Array = new Uint8Array(0);
  server.route('GET', '/fw', () => ({ code: '2.05', payload: body }));
  server.route('PUT', '/fw', (req) => {
    stored = req.payload;
    return { code: '2.04' };
  });
  const got = await net.drive(client.request(server.address(), { method: 'GET', path: '/fw', timeoutMs: 3_600_000 }), 100, 4_000_000);
  assert.deepEqual(got.payload, body);
  const put = await net.drive(client.request(server.address(), { method: 'PUT', path: '/fw', payload: body, timeoutMs: 3_600_000 }), 100, 4_000_000);
  assert.equal(put.code, '2.04');
  assert.deepEqual(stored, body);
  assert.ok(client.stats().retransmissions > 10);
});

test('RFC 7959 §2.3: block size negotiation takes the smaller of both sides', async () => {
  const net = fakeNet(31);
  const server = await net.endpoint({ limits: { blockSize: 64 } });
  const client = await net.endpoint({ limits: { blockSize: 256 } });
  const body = bytes(1000);
  let stored: Uint8Array = new Uint8Array(0);
  server.route('PUT', '/x', (req) => {
    stored = req.payload;
    return { code: '2.04', payload: body };
  });
  const res = await net.drive(client.request(server.address(), { method: 'PUT', path: '/x', payload: body }));
  assert.deepEqual(stored, body);
  assert.deepEqual(res.payload, body);
  const sizes = net.network.trace.filter((t) => t.from.address === server.address().address).map((t) => decoded(t.data).payload.length);
  assert.ok(sizes.every((s) => s <= 64));
});

test('RFC 7959 §2.9.3: a body over maxBodySize gets 4.13 with Size1', async () => {
  const net = fakeNet(37);
  const server = await net.endpoint({ limits: { maxBodySize: 2048 } });
  const client = await net.endpoint();
  server.route('PUT', '/x', () => ({ code: '2.04' }));
  const res = await net.drive(client.request(server.address(), { method: 'PUT', path: '/x', payload: bytes(5000) }));
  assert.equal(res.code, '4.13');
  const size1 = res.options.find((o) => o.number === O.Size1);
  assert.ok(size1);
  assert.equal(res.message.options.length > 0, true);
});

test('RFC 7252 §5.3.2: a piggybacked response with a foreign token only acknowledges; the real one completes', async () => {
  const net = fakeNet(71);
  const client = await net.endpoint();
  const dev = net.network.transport();
  await dev.start();
  dev.onDatagram((d) => {
    const m = decoded(d.data);
    if (m.code !== '0.01') return;
    // The ACK carries another token: it acknowledges the request but is not its response.
    dev.send(serializeMessage({ type: 'ACK', code: '2.05', messageId: m.messageId, token: Uint8Array.of(9, 9), options: [], payload: Uint8Array.of(0) }), d.peer);
    dev.send(serializeMessage({ type: 'CON', code: '2.05', messageId: 7, token: m.token, options: [], payload: Uint8Array.of(1) }), d.peer);
  });
  const res = await net.drive(client.request(dev.address(), { method: 'GET', path: '/x' }));
  assert.deepEqual([...res.payload], [1]);
  assert.equal(client.stats().unmatchedResponses, 1);
});

test('RFC 7641 §3.6: an active cancel the device never answers still ends the observation locally', async () => {
  const net = fakeNet(73);
  const client = await net.endpoint();
  const device = await notifyingDevice(net);
  const ends: string[] = [];
  const obs = await net.drive(client.observe(device.dev.address(), { method: 'GET', path: '/a', timeoutMs: 5000 }, { onNotify: () => {}, onEnd: (r) => ends.push(r) }));
  net.network.dropIf = () => true;
  await assert.rejects(net.drive(obs.cancel('active')), (e) => CoapErrors.timeout.is(e));
  assert.deepEqual(ends, ['cancelled']);
  assert.equal(client.stats().observations, 0);
});

test('RFC 7959 §2.4: a download resumes from block N with the same ETag (firmware resume)', async () => {
  const net = fakeNet(79);
  const server = await net.endpoint();
  const client = await net.endpoint();
  const fw = bytes(5000, 3);
  let calls = 0;
  server.route('GET', '/fw', () => {
    calls++;
    return { code: '2.05', contentFormat: 42, payload: fw };
  });
  const full = await net.drive(client.request(server.address(), { method: 'GET', path: '/fw' }));
  assert.deepEqual(full.payload, fw);
  const etag = full.options.find((o) => o.number === O.ETag)!.value;
  const rest = await net.drive(
    client.request(server.address(), { method: 'GET', path: '/fw', options: [{ number: O.Block2, value: Uint8Array.of(0x26) }] }),
  );
  assert.deepEqual(rest.payload, fw.subarray(2048));
  assert.deepEqual(rest.options.find((o) => o.number === O.ETag)!.value, etag);
  assert.equal(calls, 1, 'served from the kept body');
});
