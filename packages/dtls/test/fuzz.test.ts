import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isM2MError, type PeerAddress } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import { parseClientHello, parseFragments, parseServerHello } from '../src/handshake/codec';
import { parseRecords } from '../src/record/codec';
import { CLIENT, MemoryPair, str, text } from './helpers/memory-pair';

function mutate(rnd: SeededRandom, input: Uint8Array): Uint8Array {
  let d = input.slice();
  const ops = 1 + rnd.int(4);
  for (let k = 0; k < ops; k++) {
    switch (rnd.int(7)) {
      case 0: // flip a bit
        if (d.length) d[rnd.int(d.length)]! ^= 1 << rnd.int(8);
        break;
      case 1: // set a byte to an edge value
        if (d.length) d[rnd.int(d.length)] = [0, 0xff, 0x7f, 0x80, 1][rnd.int(5)]!;
        break;
      case 2: // truncate
        d = d.subarray(0, rnd.int(d.length + 1));
        break;
      case 3: {
        // append random bytes
        const n = new Uint8Array(d.length + 1 + rnd.int(64));
        n.set(d);
        n.set(rnd.bytes(n.length - d.length), d.length);
        d = n;
        break;
      }
      case 4: // large length fields
        if (d.length > 12) {
          const i = rnd.int(d.length - 2);
          d[i] = 0xff;
          d[i + 1] = 0xff;
        }
        break;
      case 5: {
        // duplicate a slice (several records in one datagram)
        const a = rnd.int(d.length + 1);
        const n = new Uint8Array(d.length * 2 - a);
        n.set(d);
        n.set(d.subarray(a), d.length);
        d = n;
        break;
      }
      default: // random byte
        if (d.length) d[rnd.int(d.length)] = rnd.int(256);
    }
  }
  return d;
}

describe('fuzz', () => {
  it('RFC 6347 §4.1.2.7: 100,000 mutated records and handshake messages: no crash, bounded state, good clients still served', () => {
    const limits = { maxHandshakes: 64, maxSessions: 256 };
    const p = new MemoryPair({}, limits);
    p.echo = true;
    // Capture a real client's datagrams as the seed corpus (CH1, CH2, flight 5, data, close_notify).
    const c = p.newClient({ cidLength: 4 });
    c.start();
    p.flush();
    c.send(text('seed'));
    p.flush();
    c.close();
    p.flush();
    const corpus = p.log.filter((l) => l.dir === 'c2s').map((l) => l.d);
    const s2c = p.log.filter((l) => l.dir === 's2c').map((l) => l.d);
    assert.ok(corpus.length >= 4);
    const rnd = new SeededRandom(2024);
    const addrs: PeerAddress[] = [CLIENT, ...Array.from({ length: 31 }, (_, i) => ({ address: '10.7.0.1', port: 1000 + i, family: 'IPv4' as const }))];
    const heap0 = process.memoryUsage().heapUsed;
    let records = 0;
    for (let i = 0; i < 100_000; i++) {
      // Keep a handshake in progress at the seed address now and then, so mutations reach deep states.
      if (i % 50 === 0) p.server.handleDatagram(corpus[1]!, CLIENT);
      const seed = corpus[rnd.int(corpus.length)]!;
      const d = mutate(rnd, seed);
      records++;
      p.server.handleDatagram(d, addrs[rnd.int(addrs.length)]!);
      if (i % 1000 === 0) p.sched.advance(700);
      p.toClient.length = 0;
      assert.ok(p.server.handshakeCount <= limits.maxHandshakes);
      assert.ok(p.server.sessionCount <= limits.maxSessions);
    }
    // The client engine gets mutated server datagrams too.
    for (let i = 0; i < 20_000; i++) {
      const fresh = p.newClient();
      if (i % 100 === 0) fresh.start();
      fresh.handleDatagram(mutate(rnd, s2c[rnd.int(s2c.length)]!));
      records++;
    }
    // The pure parsers only ever throw typed errors.
    const bodies = corpus.flatMap((d) => parseRecords(d, 6, 32, 20000)).filter((r) => r.type === 22 && r.epoch === 0).map((r) => r.fragment);
    for (let i = 0; i < 20_000; i++) {
      const m = mutate(rnd, bodies[rnd.int(bodies.length)]!);
      for (const fn of [() => parseFragments(m, 16384), () => parseClientHello(m.subarray(12)), () => parseServerHello(m.subarray(12))]) {
        try {
          fn();
        } catch (err) {
          assert.ok(isM2MError(err), `untyped error ${String(err)}`);
        }
      }
      records++;
    }
    assert.ok(records >= 100_000);
    // Let every handshake left by the fuzzing time out (the fuzzed clients retransmit meanwhile).
    p.sched.advance(60_000);
    p.toServer = [];
    p.toClient = [];
    const grown = process.memoryUsage().heapUsed - heap0;
    assert.ok(grown < 64 * 1024 * 1024, `heap grew ${grown} bytes`);
    // A good client is still served.
    p.clientAddr = { address: '10.8.0.1', port: 4444, family: 'IPv4' };
    p.clientData = [];
    const good = p.connect();
    assert.equal(good.state, 'established', String(p.clientClosed));
    good.send(text('still alive'));
    p.flush();
    assert.equal(str(p.clientData[0]!), 'still alive');
  });
});
