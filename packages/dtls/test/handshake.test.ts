import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DtlsErrors } from '../src/errors';
import { AlertDescription, ContentType, HandshakeType } from '../src/constants';
import { parseRecords } from '../src/record/codec';
import { CLIENT, KEY, MemoryPair, str, text } from './helpers/memory-pair';

function echoServer(p: MemoryPair): void {
  p.echo = true;
}

/** The handshake message types inside a plaintext datagram (epoch 0 only). */
function handshakeTypes(d: Uint8Array): number[] {
  return parseRecords(d, 0, 32, 20000)
    .filter((r) => r.type === ContentType.handshake && r.epoch === 0)
    .map((r) => r.fragment[0]!);
}

describe('DTLS 1.2 PSK handshake (in memory, fake clock)', () => {
  for (const suite of [0xc0a8, 0x00a8, 0x00ae]) {
    it(`RFC 4279 §2: full handshake and echo with suite 0x${suite.toString(16)}`, () => {
      const p = new MemoryPair();
      echoServer(p);
      const c = p.connect({ cipherSuites: [suite] });
      assert.equal(c.state, 'established');
      c.send(text('hello'));
      p.flush();
      assert.equal(str(p.clientData[0]!), 'hello');
      const s = p.serverData[0]!.session;
      assert.deepEqual(s.identity, { kind: 'psk', id: 'dev1', endpoint: 'ep-1' });
    });
  }

  it('RFC 6347 §4.2.1: the first ClientHello gets a HelloVerifyRequest and leaves no state', () => {
    const p = new MemoryPair();
    const c = p.newClient();
    c.start();
    const ch1 = p.toServer.shift()!;
    p.server.handleDatagram(ch1.d, ch1.from);
    assert.equal(p.server.handshakeCount, 0);
    assert.deepEqual(handshakeTypes(p.toClient[0]!.d), [HandshakeType.helloVerifyRequest]);
    p.flush();
    assert.equal(c.state, 'established');
    assert.equal(p.server.handshakeCount, 0);
    assert.equal(p.server.sessionCount, 1);
  });

  it('RFC 6347 §4.2.1: a flood of ClientHellos without cookies keeps no state at all', () => {
    const p = new MemoryPair();
    const c = p.newClient();
    c.start();
    const ch1 = p.toServer.shift()!.d;
    for (let i = 0; i < 5000; i++) {
      p.server.handleDatagram(ch1, { address: `10.1.${i >> 8}.${i & 255}`, port: 1000 + i, family: 'IPv4' });
    }
    assert.equal(p.server.handshakeCount, 0);
    assert.equal(p.server.sessionCount, 0);
  });

  it('RFC 6347 §4.2.4: a lost flight is retransmitted on a doubling timer', () => {
    const p = new MemoryPair();
    const c = p.newClient();
    c.start();
    // Lose the first three transmissions of the ClientHello.
    p.toServer = [];
    p.sched.advance(999);
    assert.equal(p.toServer.length, 0);
    p.sched.advance(1);
    assert.equal(p.toServer.length, 1, 'retransmitted after 1 s');
    p.toServer = [];
    p.sched.advance(1999);
    assert.equal(p.toServer.length, 0);
    p.sched.advance(1);
    assert.equal(p.toServer.length, 1, 'then after 2 s more');
    p.toServer = [];
    p.sched.advance(4000);
    assert.equal(p.toServer.length, 1, 'then after 4 s more');
    p.flush();
    assert.equal(c.state, 'established');
  });

  it("RFC 6347 §4.2.4: the server's lost flight 4 and final flight are recovered by retransmission", () => {
    const p = new MemoryPair();
    const c = p.newClient();
    c.start();
    let s2cDropped = 0;
    // Drop the server's ServerHello flight once, then its CCS+Finished flight once.
    const drop = (d: Uint8Array, dir: string) => {
      if (dir === 's2c' && s2cDropped < 2 && !handshakeTypes(d).includes(HandshakeType.helloVerifyRequest)) {
        s2cDropped++;
        return [];
      }
      return [d];
    };
    p.flush(drop);
    assert.equal(c.state, 'handshaking');
    for (let i = 0; i < 10 && (c.state as string) !== 'established'; i++) {
      p.sched.runNext();
      p.flush(drop);
    }
    assert.equal(s2cDropped, 2);
    assert.equal(c.state, 'established');
    c.send(text('x'));
    p.flush();
    assert.equal(p.serverData.length, 1);
  });

  it('RFC 6347 §4.1.2.6 / §4.2.3: reordered and duplicated datagrams, fragmented handshake messages (small MTU)', () => {
    const p = new MemoryPair({}, { mtu: 90 });
    echoServer(p);
    // The client keeps a normal MTU: a stateless server cannot reassemble a fragmented
    // ClientHello before the cookie round trip (RFC 6347 §4.2.1), so only server flights fragment.
    const c = p.newClient();
    c.start();
    // Each batch is delivered reversed and every datagram twice.
    for (let i = 0; i < 20 && c.state === 'handshaking'; i++) {
      const cs = p.toServer.reverse();
      const sc = p.toClient.reverse();
      p.toServer = [];
      p.toClient = [];
      for (const { d, from } of cs) {
        p.server.handleDatagram(d, from);
        p.server.handleDatagram(d, from);
      }
      for (const { d } of sc) {
        c.handleDatagram(d);
        c.handleDatagram(d);
      }
      if (p.toServer.length === 0 && p.toClient.length === 0) p.sched.runNext();
    }
    assert.equal(c.state, 'established');
    assert.ok(p.log.filter((l) => l.dir === 's2c').length > 2, 'the server flight was fragmented over several datagrams');
    c.send(text('once'));
    const [dg] = p.toServer;
    p.server.handleDatagram(dg!.d, dg!.from);
    p.server.handleDatagram(dg!.d, dg!.from);
    assert.equal(p.serverData.length, 1, 'a replayed record is dropped (anti-replay window)');
  });

  it('RFC 6347 §4.1.2.7: records that fail authentication are dropped silently after the handshake', () => {
    const p = new MemoryPair();
    const c = p.connect();
    c.send(text('abc'));
    const dg = p.toServer.shift()!;
    const bad = dg.d.slice();
    bad[bad.length - 1]! ^= 1;
    p.server.handleDatagram(bad, dg.from);
    assert.equal(p.serverData.length, 0);
    assert.equal(p.toClient.length, 0, 'no alert sent');
    p.server.handleDatagram(dg.d, dg.from);
    assert.equal(p.serverData.length, 1, 'session still alive');
  });

  it('RFC 6347 §4.1.2.7: a wrong PSK fails the handshake with a fatal bad_record_mac alert', () => {
    const p = new MemoryPair();
    const c = p.newClient({ psk: { identity: 'dev1', key: text('not-the-key') } });
    c.start();
    p.flush();
    assert.notEqual(c.state, 'established');
    const alerts = p.log
      .filter((l) => l.dir === 's2c')
      .flatMap((l) => parseRecords(l.d, 0, 32, 20000))
      .filter((r) => r.type === ContentType.alert);
    assert.equal(alerts.length, 1);
    assert.deepEqual([...alerts[0]!.fragment], [2, AlertDescription.badRecordMac]);
    assert.ok(DtlsErrors.alertReceived.is(p.clientClosed));
    assert.equal(p.server.handshakeCount, 0);
  });

  it('RFC 5246 §7.4.9: a Finished that authenticates but does not verify fails with decrypt_error', async () => {
    const { encodeRecord } = await import('../src/record/codec');
    const { encodeHandshake } = await import('../src/handshake/codec');
    const p = new MemoryPair();
    const c = p.newClient();
    c.start();
    // Hold back the client's flight 5 (ClientKeyExchange, CCS, Finished).
    let flight5: Uint8Array | undefined;
    p.flush((d, dir) => {
      if (dir === 'c2s' && handshakeTypes(d).includes(HandshakeType.clientKeyExchange)) {
        flight5 = d;
        return [];
      }
      return [d];
    });
    const recs = parseRecords(flight5!, 0, 32, 20000);
    assert.deepEqual(recs.map((r) => r.type), [ContentType.handshake, ContentType.changeCipherSpec, ContentType.handshake]);
    // Forge the Finished: right keys (the client's epoch-1 write protection), wrong verify_data.
    const ws = (c.conn as unknown as { writes: { epoch: number; protection: import('../src/record/protection').RecordProtection }[] }).writes;
    const prot = ws.find((w) => w.epoch === 1)!.protection;
    const fin = encodeHandshake(HandshakeType.finished, 3, new Uint8Array(12));
    const forged = encodeRecord(ContentType.handshake, 0xfefd, 1, 7, prot.seal(ContentType.handshake, 0xfefd, 1, 7, undefined, fin));
    for (const r of recs.slice(0, 2)) p.server.handleDatagram(encodeRecord(r.type, r.version, r.epoch, r.seq, r.fragment), CLIENT);
    p.log = [];
    p.server.handleDatagram(forged, CLIENT);
    const alert = p.log.flatMap((l) => parseRecords(l.d, 0, 32, 20000)).find((r) => r.type === ContentType.alert);
    assert.deepEqual([...alert!.fragment], [2, AlertDescription.decryptError]);
    assert.equal(p.server.handshakeCount, 0);
    assert.equal(p.server.sessionCount, 0);
  });

  it('RFC 4279 §2: an unknown PSK identity fails with unknown_psk_identity', () => {
    const p = new MemoryPair();
    const c = p.newClient({ psk: { identity: 'nobody', key: KEY } });
    c.start();
    p.flush();
    assert.notEqual(c.state, 'established');
    const alert = p.log
      .filter((l) => l.dir === 's2c')
      .flatMap((l) => parseRecords(l.d, 0, 32, 20000))
      .find((r) => r.type === ContentType.alert);
    assert.deepEqual([...alert!.fragment], [2, AlertDescription.unknownPskIdentity]);
  });

  it('RFC 4279 §2: an async PSK store is awaited before the handshake continues', async () => {
    const p = new MemoryPair({
      pskStore: { lookup: async (id) => (id === 'dev1' ? { key: KEY } : undefined) },
    });
    const c = p.newClient();
    c.start();
    for (let i = 0; i < 10; i++) {
      p.flush();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(c.state, 'established');
  });

  it('RFC 5246 §7.4.1.2: no common cipher suite fails with handshake_failure', () => {
    const p = new MemoryPair({ cipherSuites: [0x00a8] });
    const c = p.newClient({ cipherSuites: [0xc0a8] });
    c.start();
    p.flush();
    const alert = p.log
      .filter((l) => l.dir === 's2c')
      .flatMap((l) => parseRecords(l.d, 0, 32, 20000))
      .find((r) => r.type === ContentType.alert);
    assert.deepEqual([...alert!.fragment], [2, AlertDescription.handshakeFailure]);
    assert.ok(p.clientClosed);
  });

  it('RFC 9146 §6: with a connection id the session follows the client to a new address', () => {
    const p = new MemoryPair();
    echoServer(p);
    const c = p.connect({ cidLength: 4 });
    c.send(text('one'));
    p.flush();
    const key1 = p.serverData[0]!.session.readCid;
    assert.ok(key1 && key1.length === 6);
    p.clientAddr = { address: '10.0.0.99', port: 50123, family: 'IPv4' };
    c.send(text('two'));
    p.flush();
    assert.equal(p.serverData.length, 2);
    assert.equal(p.serverData[1]!.session, p.serverData[0]!.session, 'same session');
    assert.equal(p.serverData[1]!.session.peer.port, 50123);
    assert.deepEqual(p.server.sessionAt(p.clientAddr)?.peer, p.clientAddr);
    assert.equal(p.server.sessionAt(CLIENT), undefined);
    assert.equal(str(p.clientData[1]!), 'two');
  });

  it('RFC 9146 §6: a CID record that fails authentication does not move the session', () => {
    const p = new MemoryPair();
    const c = p.connect({ cidLength: 4 });
    c.send(text('x'));
    const dg = p.toServer.shift()!;
    const bad = dg.d.slice();
    bad[bad.length - 2]! ^= 0xff;
    p.server.handleDatagram(bad, { address: '6.6.6.6', port: 666, family: 'IPv4' });
    assert.ok(p.server.sessionAt(CLIENT));
    assert.equal(p.serverData.length, 0);
  });

  it('RFC 5246 §7.3: resumption by session ID runs the abbreviated handshake', () => {
    const p = new MemoryPair();
    echoServer(p);
    const c1 = p.connect();
    const session = c1.session!;
    assert.equal(session.id.length, 32);
    c1.close();
    p.flush();
    assert.equal(p.server.sessionCount, 0);
    p.log = [];
    const c2 = p.connect({ resume: session });
    assert.equal(c2.state, 'established');
    // Abbreviated: no ServerHelloDone, no ClientKeyExchange went over the wire.
    const types = p.log.flatMap((l) => handshakeTypes(l.d));
    assert.ok(!types.includes(HandshakeType.serverHelloDone));
    assert.ok(!types.includes(HandshakeType.clientKeyExchange));
    c2.send(text('back'));
    p.flush();
    assert.equal(str(p.clientData[0]!), 'back');
    assert.equal(p.serverData[0]!.session.identity?.id, 'dev1', 'the identity survives resumption');
  });

  it('RFC 6347 §4.2.8: a new handshake from the same address keeps the old session until it completes', () => {
    const p = new MemoryPair();
    const c1 = p.connect();
    const old = p.server.sessionAt(CLIENT)!;
    const c2 = p.newClient();
    c2.start();
    // Run only the cookie exchange and flight 4: the new handshake is in progress.
    p.flush((d, dir) => (dir === 's2c' && handshakeTypes(d).includes(HandshakeType.serverHello) ? [] : [d]));
    assert.equal(p.server.handshakeCount, 1);
    assert.equal(p.server.sessionAt(CLIENT), old, 'old session kept');
    // The old client can still talk on the old session.
    c1.send(text('still here'));
    const dg = p.toServer.pop()!;
    p.server.handleDatagram(dg.d, dg.from);
    assert.equal(str(p.serverData[0]!.data), 'still here');
    p.toServer = [];
    p.sched.runNext();
    p.flush();
    assert.equal(c2.state, 'established');
    assert.notEqual(p.server.sessionAt(CLIENT), old, 'replaced once the new one completed');
    assert.equal(old.state, 'closed');
  });

  it('RFC 6347 §4.2.4.1: a handshake with no answer gives up after handshakeTimeoutMs', () => {
    const p = new MemoryPair({}, { handshakeTimeoutMs: 10_000 });
    const c = p.newClient({}, { handshakeTimeoutMs: 10_000 });
    c.start();
    p.sched.advance(20_000);
    assert.ok(DtlsErrors.handshakeTimeout.is(p.clientClosed));
  });

  it('limits: a server-side handshake is dropped after handshakeTimeoutMs', () => {
    const p = new MemoryPair({}, { handshakeTimeoutMs: 5_000 });
    const c = p.newClient();
    c.start();
    // Deliver CH1, HVR, CH2; then lose everything.
    p.flush((d, dir) => (dir === 's2c' && handshakeTypes(d).includes(HandshakeType.serverHello) ? [] : [d]));
    assert.equal(p.server.handshakeCount, 1);
    p.toServer = [];
    p.sched.advance(6_000);
    assert.equal(p.server.handshakeCount, 0);
  });

  it('limits: handshakes beyond maxHandshakes are not started', () => {
    const p = new MemoryPair({}, { maxHandshakes: 2 });
    for (let i = 0; i < 4; i++) {
      p.clientAddr = { address: '10.9.0.1', port: 2000 + i, family: 'IPv4' };
      const c = p.newClient();
      c.start();
      p.flush((d, dir) => (dir === 's2c' && handshakeTypes(d).includes(HandshakeType.serverHello) ? [] : [d]));
    }
    assert.equal(p.server.handshakeCount, 2);
  });

  it('limits: idle sessions expire after idleTimeoutMs', () => {
    const p = new MemoryPair({}, { idleTimeoutMs: 60_000, sweepIntervalMs: 1000 });
    p.connect();
    assert.equal(p.server.sessionCount, 1);
    p.sched.advance(61_000);
    assert.equal(p.server.sessionCount, 0);
  });

  it('limits: a session idle for cipherIdleReleaseMs frees its AES contexts and still works both ways', () => {
    const p = new MemoryPair({}, { cipherIdleReleaseMs: 10_000, sweepIntervalMs: 1000 });
    p.echo = true;
    const c = p.connect();
    c.send(text('before'));
    p.flush();
    p.sched.advance(11_000); // the sweep released the contexts of both directions
    for (const word of ['after', 'again']) {
      c.send(text(word));
      p.flush();
    }
    assert.deepEqual(
      p.serverData.map((d) => new TextDecoder().decode(d.data)),
      ['before', 'after', 'again'],
    );
    assert.deepEqual(
      p.clientData.map((d) => new TextDecoder().decode(d)),
      ['before', 'after', 'again'],
    );
  });

  it('RFC 5246 §7.2.1: close_notify closes the session on both sides', () => {
    const p = new MemoryPair();
    const c = p.connect();
    c.close();
    p.flush();
    assert.equal(p.server.sessionCount, 0);
    assert.equal(c.state, 'closed');
  });

  it('RFC 8449: record_size_limit is negotiated and larger application data is split', () => {
    const p = new MemoryPair();
    const c = p.connect({ recordSizeLimit: 256 });
    const s = p.server.sessionAt(CLIENT)!;
    assert.equal(s.peerRecordLimit, 256);
    s.sendApplicationData(new Uint8Array(600));
    p.flush();
    assert.deepEqual(
      p.clientData.map((d) => d.length),
      [256, 256, 88],
    );
    void c;
  });
});

describe('handshake reassembly', () => {
  it('RFC 6347 §4.2.3: overlapping, out-of-order and duplicate fragments give one message, in order', async () => {
    const { Reassembler } = await import('../src/handshake/reassembler');
    const r = new Reassembler(0, 4);
    const body = Uint8Array.from({ length: 100 }, (_, i) => i);
    const frag = (seq: number, o: number, n: number) => ({ type: 2, length: 100, seq, offset: o, body: body.subarray(o, o + n) });
    assert.equal(r.add(frag(1, 0, 100)), 'accepted');
    assert.equal(r.shift(), undefined, 'seq 1 waits for seq 0');
    r.add(frag(0, 50, 50));
    r.add(frag(0, 20, 40));
    r.add(frag(0, 20, 40));
    assert.equal(r.shift(), undefined);
    r.add(frag(0, 0, 30));
    assert.deepEqual([r.shift()?.seq, r.shift()?.seq], [0, 1]);
    assert.equal(r.add(frag(0, 0, 10)), 'old');
    assert.equal(r.add(frag(9, 0, 10)), 'dropped', 'too far ahead: not buffered');
  });
});
