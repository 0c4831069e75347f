/**
 * Fuzz: 100,000 mutated datagrams (bit flips, truncation, option garbage, random bytes)
 * through the parser and the endpoint's receive path, 20,000 of them over a real UDP socket.
 * The endpoint must never throw, must still answer a good request, and its state must stay bounded.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromHex } from '@m2mhub/core';
import { FakeScheduler, SeededRandom } from '@m2mhub/core/testing';
import { parseMessage, serializeMessage } from '../src/codec';
import { CoapEndpoint } from '../src/endpoint';
import { MemoryNetwork } from '../src/memory-transport';
import { OptionNumber as O, encodeUint, utf8 } from '../src/options';
import { udpEndpoint } from './helpers';
import { sharedDir } from '@m2mhub/core/testing';

const DIR = sharedDir('fixtures', 'real-clients');

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of readdirSync(DIR).filter((x) => x.endsWith('.jsonl'))) {
    for (const l of readFileSync(join(DIR, f), 'utf8').split('\n')) {
      if (l.trim()) out.push(fromHex((JSON.parse(l) as { messageHex: string }).messageHex));
    }
  }
  const path = (p: string) => p.split('/').filter(Boolean).map((s) => ({ number: O.UriPath, value: utf8(s) }));
  const mk = (code: string, p: string, extra: { number: number; value: Uint8Array }[] = [], payload = new Uint8Array(0)) =>
    serializeMessage({ type: 'CON', code, messageId: 1, token: Uint8Array.of(1, 2), options: [...path(p), ...extra], payload });
  out.push(mk('0.01', '/big', [{ number: O.Block2, value: encodeUint(0x16) }]));
  out.push(mk('0.03', '/up', [{ number: O.Block1, value: encodeUint(0x0e) }], new Uint8Array(1024)));
  out.push(mk('0.01', '/obs', [{ number: O.Observe, value: new Uint8Array(0) }]));
  return out;
}

function mutate(r: SeededRandom, corpus: Uint8Array[]): Uint8Array {
  const base = corpus[r.int(corpus.length)]!;
  const b = base.slice();
  switch (r.int(6)) {
    case 0: {
      const flips = 1 + r.int(8);
      for (let i = 0; i < flips && b.length; i++) b[r.int(b.length)]! ^= 1 << r.int(8);
      return b;
    }
    case 1:
      return b.subarray(0, r.int(b.length + 1));
    case 2: {
      // Option garbage spliced after the header/token.
      const at = Math.min(b.length, 4 + (b[0]! & 0x0f));
      const garbage = r.bytes(1 + r.int(24));
      const out = new Uint8Array(b.length + garbage.length);
      out.set(b.subarray(0, at));
      out.set(garbage, at);
      out.set(b.subarray(at), at + garbage.length);
      return out;
    }
    case 3:
      return r.bytes(r.int(64));
    case 4: {
      // Valid header, random rest.
      const out = r.bytes(4 + r.int(40));
      out[0] = 0x40 | (out[0]! & 0x3f);
      return out;
    }
    default: {
      for (let i = 0; i < 3 && b.length > 4; i++) b[4 + r.int(b.length - 4)] = r.int(256);
      return b;
    }
  }
}

function serverRoutes(ep: CoapEndpoint) {
  const big = new Uint8Array(5000);
  ep.route('GET', '/big', () => ({ code: '2.05', payload: big }));
  ep.route('*', '/up', () => ({ code: '2.04' }));
  ep.fallback((req) => ({ code: '2.05', payload: req.payload.subarray(0, 16) }));
}

const LIMITS = { dedupCacheSize: 5000, maxConcurrentTransfers: 50, maxBodySize: 64 * 1024 };

test('fuzz: 100,000 mutated datagrams through the parser and the endpoint; state stays bounded', async () => {
  const r = new SeededRandom(1234);
  const corpus = seeds();
  let parsed = 0;
  let rejected = 0;
  const mutants: Uint8Array[] = [];
  for (let i = 0; i < 100_000; i++) {
    const m = mutate(r, corpus);
    mutants.push(m);
    try {
      parseMessage(m);
      parsed++;
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'M2M_COAP_FORMAT_ERROR');
      rejected++;
    }
  }
  assert.ok(parsed > 10_000 && rejected > 10_000, `parsed ${parsed} rejected ${rejected}`);

  // The whole receive path, in memory (replies go nowhere).
  const scheduler = new FakeScheduler();
  const net = new MemoryNetwork(scheduler, r);
  net.dropIf = () => true;
  const transport = net.transport();
  const ep = new CoapEndpoint({ transport, scheduler, random: r, limits: LIMITS });
  serverRoutes(ep);
  await ep.start();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < mutants.length; i++) {
    transport.inject(mutants[i]!, { address: '10.7.0.1', port: 1000 + (i % 2000), family: 'IPv4' });
    if (i % 10_000 === 0) scheduler.advance(1);
  }
  const st = ep.stats();
  assert.ok(st.dedupEntries <= LIMITS.dedupCacheSize);
  assert.ok(st.transfers <= 2 * LIMITS.maxConcurrentTransfers);
  assert.equal(st.exchanges, 0);
  assert.equal(st.pendingRequests, 0);
  assert.ok(st.formatErrors > 10_000);
  assert.ok(st.requestsHandled > 1000);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 200 * 1024 * 1024);
  await ep.close();

  // A sizeable share over a real UDP socket, then a good request must still be answered.
  const server = await udpEndpoint({ limits: LIMITS });
  serverRoutes(server);
  const sock = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  const port = server.address().port;
  const N = 20_000;
  for (let i = 0; i < N; i += 50) {
    await Promise.all(
      mutants.slice(i, i + 50).map((m) => new Promise<void>((res) => sock.send(m, port, '127.0.0.1', () => res()))),
    );
    // Sender and server share this event loop: let the server drain its socket.
    await new Promise((res) => setTimeout(res, 1));
  }
  await new Promise((res) => setTimeout(res, 200));
  sock.close();
  const s2 = server.stats();
  const seen = s2.received + s2.formatErrors + s2.oversized;
  assert.ok(seen > N * 0.8, `server saw ${seen} of ${N}`);
  const client = await udpEndpoint();
  try {
    const res = await client.request(server.address(), { method: 'GET', path: '/still/alive', payload: utf8('ok') });
    assert.equal(res.code, '2.05');
    assert.ok(server.stats().dedupEntries <= LIMITS.dedupCacheSize);
  } finally {
    await client.close();
    await server.close();
  }
});
