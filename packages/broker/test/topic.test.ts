import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '@m2mhub/core/testing';
import { Duplex } from 'node:stream';
import { type AclRule, BrokerErrors, evaluateAcl, GuardedConnection, MqttFrameSplitter, filterCovers, filtersIntersect, hashPassword, isValidFilter, MqttFrameScanner, topicMatches, verifyPassword } from '../src/index';

describe('topics', () => {
  it('MQTT 3.1.1 §4.7.1: filter validity', () => {
    for (const f of ['a', 'a/b', '#', 'a/#', '+', '+/+', 'a/+/c', '/', '$SYS/#']) assert.ok(isValidFilter(f), f);
    for (const f of ['', 'a#', 'a/#/b', 'a+', '#/a', 'a/b+']) assert.ok(!isValidFilter(f), f);
  });
  it('MQTT 3.1.1 §4.7.1.2: # matches the parent level; §4.7.2: wildcards do not match $ topics', () => {
    assert.ok(topicMatches('a/#', 'a'));
    assert.ok(topicMatches('a/#', 'a/b/c'));
    assert.ok(topicMatches('a/+/c', 'a/b/c'));
    assert.ok(!topicMatches('a/+', 'a/b/c'));
    assert.ok(topicMatches('+/+', '/finance'));
    assert.ok(!topicMatches('#', '$SYS/broker/uptime'));
    assert.ok(!topicMatches('+/broker', '$SYS/broker'));
    assert.ok(topicMatches('$SYS/#', '$SYS/broker/uptime'));
  });
  it('filter cover and intersection', () => {
    assert.ok(filterCovers('a/#', 'a/+/c'));
    assert.ok(filterCovers('a/+', 'a/b'));
    assert.ok(!filterCovers('a/+', 'a/#'));
    assert.ok(!filterCovers('a/b', 'a/+'));
    assert.ok(filterCovers('#', '#'));
    assert.ok(filtersIntersect('a/+', 'a/#'));
    assert.ok(filtersIntersect('a/#', 'a'));
    assert.ok(filtersIntersect('+/b', 'a/+'));
    assert.ok(!filtersIntersect('a/b', 'a/c'));
    assert.ok(!filtersIntersect('a/b', 'a/b/c'));
  });
});

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: MQTT ACL placeholders, not JS templates
describe('ACL', () => {
  const rules: AclRule[] = [
    { permission: 'deny', action: 'all', topics: ['secret/#'] },
    { permission: 'allow', action: 'all', topics: ['devices/${username}/#'] },
    { permission: 'allow', action: 'subscribe', topics: ['public/#'], username: 'alice' },
    { permission: 'allow', action: 'publish', topics: ['clients/${clientid}'] },
  ];
  const alice = { clientId: 'c1', username: 'alice' };
  it('first matching rule decides; placeholders expand', () => {
    assert.ok(evaluateAcl(rules, alice, 'publish', 'devices/alice/temp', 'deny'));
    assert.ok(!evaluateAcl(rules, alice, 'publish', 'devices/bob/temp', 'deny'));
    assert.ok(evaluateAcl(rules, alice, 'subscribe', 'public/+', 'deny'));
    assert.ok(!evaluateAcl(rules, { clientId: 'c2', username: 'bob' }, 'subscribe', 'public/+', 'deny'));
    assert.ok(evaluateAcl(rules, alice, 'publish', 'clients/c1', 'deny'));
    assert.ok(!evaluateAcl(rules, alice, 'publish', 'secret/x', 'allow'));
  });
  it('a deny rule blocks any overlapping subscription; an allow rule must cover it', () => {
    assert.ok(!evaluateAcl(rules, alice, 'subscribe', '#', 'allow'));
    assert.ok(evaluateAcl(rules, alice, 'subscribe', 'devices/alice/#', 'deny'));
    assert.ok(!evaluateAcl(rules, alice, 'subscribe', 'devices/+/#', 'deny'));
  });
  it('a user name with wildcards cannot widen a ${username} rule (regression: ACL injection)', () => {
    // What broke: "devices/${username}/#" with username "+" would have allowed every device.
    assert.ok(!evaluateAcl(rules, { clientId: 'x', username: '+' }, 'subscribe', 'devices/+/#', 'deny'));
    assert.ok(!evaluateAcl(rules, { clientId: 'x', username: 'a/b' }, 'publish', 'devices/a/b/t', 'deny'));
    assert.ok(!evaluateAcl(rules, { clientId: 'x' }, 'publish', 'devices/undefined/t', 'deny'));
  });
});

// biome-ignore-end lint/suspicious/noTemplateCurlyInString: end
describe('passwords', () => {
  it('scrypt hash verifies the right password only; malformed hashes are typed errors', async () => {
    const h = await hashPassword('s3cret', { N: 1024, r: 8, p: 1 });
    assert.match(h, /^scrypt\$1024\$8\$1\$/);
    assert.ok(!h.includes('s3cret'));
    assert.equal(await verifyPassword('s3cret', h), true);
    assert.equal(await verifyPassword('wrong', h), false);
    await assert.rejects(verifyPassword('x', 'scrypt$1073741824$8$1$AAAAAAAAAAA=$AAAA'), (e) => BrokerErrors.badPasswordHash.is(e));
    await assert.rejects(verifyPassword('x', 'md5$abc'), (e) => BrokerErrors.badPasswordHash.is(e));
  });
});

describe('MQTT frame scanner', () => {
  it('MQTT 3.1.1 §2.2.3: counts Remaining Length across chunk boundaries and refuses oversize packets', () => {
    const s = new MqttFrameScanner(200);
    // PINGREQ, then a PUBLISH with remaining length 150 split over chunks
    s.feed(Uint8Array.from([0xc0, 0x00, 0x30]));
    s.feed(Uint8Array.from([0x96]));
    s.feed(Uint8Array.from([0x01]));
    s.feed(new Uint8Array(150));
    s.feed(Uint8Array.from([0xc0, 0x00]));
    // 300 bytes remaining: 0xAC 0x02
    assert.throws(() => s.feed(Uint8Array.from([0x30, 0xac, 0x02])), (e) => BrokerErrors.packetTooLarge.is(e));
  });
  it('MQTT 3.1.1 §2.2.3: a fifth Remaining Length byte is malformed', () => {
    const s = new MqttFrameScanner(1e9);
    assert.throws(() => s.feed(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff])), (e) => BrokerErrors.malformedPacket.is(e));
  });
  it('fuzz: random bytes only ever raise typed errors', () => {
    const rnd = new SeededRandom(42);
    for (let i = 0; i < 2000; i++) {
      const s = new MqttFrameScanner(1 + rnd.int(5000));
      try {
        for (let j = 0; j < 5; j++) s.feed(rnd.bytes(rnd.int(64)));
      } catch (e) {
        assert.ok(BrokerErrors.packetTooLarge.is(e) || BrokerErrors.malformedPacket.is(e), String(e));
      }
    }
  });
});

describe('outgoing PUBACK gate', () => {
  it('MQTT 3.1.1 §2.2.3: the splitter yields whole packets across chunk boundaries', () => {
    const sp = new MqttFrameSplitter();
    assert.deepEqual(sp.push(Buffer.from([0x40, 0x02, 0x00])), []);
    const out = sp.push(Buffer.from([0x07, 0xd0, 0x00, 0x30, 0x80, 0x01]));
    assert.deepEqual(out.map((b) => [...b]), [[0x40, 0x02, 0x00, 0x07], [0xd0, 0x00]]);
    assert.equal(sp.push(Buffer.alloc(128)).length, 1);
  });
  it('DESIGN.md §5: a PUBACK and what follows wait until the message is stored (regression: PUBACK before persistence lost messages on kill -9)', async () => {
    const written: number[][] = [];
    const inner = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        written.push([...chunk]);
        cb();
      },
    });
    const g = new GuardedConnection(inner, new MqttFrameScanner(1000), { violation: () => {} });
    g.holdPubacks = true;
    g.write(Buffer.from([0x40, 0x02, 0x00, 0x05])); // PUBACK id 5
    g.write(Buffer.from([0xd0, 0x00])); // PINGRESP after it
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(written, []);
    g.releasePuback(6); // released before its PUBACK is written
    g.releasePuback(5);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(written.flat(), [0x40, 0x02, 0x00, 0x05, 0xd0, 0x00]);
    g.write(Buffer.from([0x40, 0x02, 0x00, 0x06]));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(written.flat().slice(6), [0x40, 0x02, 0x00, 0x06]);
    g.destroy();
  });
  it('frames written in one event-loop turn leave in one socket write, and a destroy right after a write still sends it (regression: a corked CONNACK 4 was lost when Aedes destroyed the connection)', async () => {
    const writes: number[][] = [];
    let ended = false;
    const inner = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        writes.push([...chunk]);
        cb();
      },
      writev(chunks, cb) {
        writes.push(chunks.flatMap((c) => [...(c.chunk as Buffer)]));
        cb();
      },
      final(cb) {
        ended = true;
        cb();
      },
    });
    const g = new GuardedConnection(inner, new MqttFrameScanner(1000), { violation: () => {} });
    g.holdPubacks = true;
    for (let i = 0; i < 3; i++) g.write(Buffer.from([0xd0, 0x00]));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes, [[0xd0, 0x00, 0xd0, 0x00, 0xd0, 0x00]]);
    g.write(Buffer.from([0x20, 0x02, 0x00, 0x04])); // CONNACK 4, then Aedes destroys at once
    g.destroy();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes[1], [0x20, 0x02, 0x00, 0x04]);
    assert.equal(ended, true);
  });
});
