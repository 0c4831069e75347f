import assert from 'node:assert/strict';
import { type EventEmitter, once as onceEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { type Broker, createBroker, createRuleAuthProvider, hashPassword, staticAcl, staticUsers } from '../src/index';

const HOST = '127.0.0.1';
// MqttClient's typed emitter is not assignable to EventEmitter in @types/node.
const once = (e: unknown, name: string) => onceEmitter(e as EventEmitter, name);

function waitFor<T>(fn: () => T | undefined, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() > until) return reject(new Error('timed out'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

async function connected(url: string, opts: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts });
  await once(c, 'connect');
  return c;
}

describe('broker over real sockets', () => {
  let broker: Broker;
  let tcp: string;
  let ws: string;
  before(async () => {
    const users = [{ username: 'alice', passwordHash: await hashPassword('wonderland', { N: 1024, r: 8, p: 1 }) }];
    broker = await createBroker({
      listeners: [
        { name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: HOST },
        { name: 'mqtt:ws', transport: 'ws', port: 0, bind: HOST, path: '/mqtt' },
      ],
      persistence: { kind: 'memory' },
      auth: createRuleAuthProvider({
        authentication: true,
        allowAnonymous: true,
        users: staticUsers(users),
        acl: staticAcl([
          { permission: 'deny', action: 'all', topics: ['secret/#'] },
          { permission: 'allow', action: 'all', topics: ['#'] },
        ]),
        noMatch: 'deny',
      }),
      limits: { maxPacketBytes: 4096 },
      sysIntervalMs: 100,
    });
    await broker.listen();
    tcp = `mqtt://${HOST}:${broker.ports()['mqtt:tcp']}`;
    ws = `ws://${HOST}:${broker.ports()['mqtt:ws']}/mqtt`;
  });
  after(() => broker.stop());

  it('status lists both listeners up on their bound ports', () => {
    const st = broker.listeners();
    assert.deepEqual(
      st.map((l) => [l.name, l.up, l.port > 0]),
      [
        ['mqtt:tcp', true, true],
        ['mqtt:ws', true, true],
      ],
    );
  });

  it('in-process subscribe receives what an MQTT.js client publishes over WebSocket, and vice versa', async () => {
    const got: string[] = [];
    const ids: string[] = [];
    const unsub = await broker.subscribe('gw/cmd/#', (m) => {
      got.push(`${m.topic}=${m.payload.toString()}`);
      ids.push(m.id ?? '');
    });
    const c = await connected(ws);
    c.publish('gw/cmd/dev1', 'reboot', { qos: 1 });
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, ['gw/cmd/dev1=reboot']);
    assert.match(ids[0]!, new RegExp(`^${broker.id}:\\d+$`));
    await unsub();
    c.publish('gw/cmd/dev1', 'again');
    await c.subscribeAsync('gw/up/#', { qos: 1 });
    const msg = once(c, 'message');
    await broker.publish('gw/up/dev1', 'hello', { qos: 1 });
    const [topic, payload] = await msg;
    assert.equal(topic, 'gw/up/dev1');
    assert.equal(String(payload), 'hello');
    assert.equal(got.length, 1);
    await c.endAsync();
  });

  it('in-process subscribe with retained gets the current retained message', async () => {
    await broker.publish('state/lamp', 'on', { retain: true });
    const got: string[] = [];
    const unsub = await broker.subscribe('state/+', (m) => {
      got.push(`${m.topic}=${m.payload}:${m.retain}`);
    }, { retained: true });
    assert.deepEqual(got, ['state/lamp=on:true']);
    await unsub();
  });

  it('MQTT 3.1.1 §3.2.2.3: wrong password gets CONNACK 4; a known user with the right one connects', async () => {
    const bad = mqtt.connect(tcp, { reconnectPeriod: 0, username: 'alice', password: 'nope' });
    const [err] = (await once(bad, 'error')) as [Error & { code?: number }];
    assert.equal(err.code, 4);
    bad.end(true);
    const good = await connected(tcp, { username: 'alice', password: 'wonderland' });
    await good.endAsync();
    const unknown = mqtt.connect(tcp, { reconnectPeriod: 0, username: 'mallory', password: 'x' });
    const [err2] = (await once(unknown, 'error')) as [Error & { code?: number }];
    assert.equal(err2.code, 4);
    unknown.end(true);
  });

  it('MQTT 3.1.1 §3.9.3: ACL-denied subscription gets 0x80; a denied publish is acknowledged and dropped', async () => {
    const c = await connected(tcp);
    // MQTT.js turns a 0x80 into an error, so read the SUBACK itself.
    const suback = new Promise<number[]>((resolve) =>
      c.on('packetreceive', (p) => {
        if (p.cmd === 'suback') resolve(p.granted as number[]);
      }),
    );
    c.subscribe({ 'secret/x': { qos: 1 }, 'open/x': { qos: 1 } }, () => {});
    assert.deepEqual(await suback, [0x80, 1]);
    const seen: string[] = [];
    const unsub = await broker.subscribe('#', (m) => {
      seen.push(m.topic);
    });
    await c.publishAsync('secret/x', 'leak', { qos: 1 }); // PUBACK arrives, nothing delivered
    await c.publishAsync('open/x', 'fine', { qos: 1 });
    await waitFor(() => seen.includes('open/x'));
    assert.ok(!seen.includes('secret/x'));
    assert.ok(c.connected);
    await unsub();
    await c.endAsync();
  });

  it('a packet over max_packet_size drops that client only; others keep working', async () => {
    const victim = await connected(tcp, { clientId: 'big' });
    const other = await connected(tcp, { clientId: 'small' });
    await other.subscribeAsync('size/#');
    const closed = once(victim, 'close');
    victim.publish('size/big', Buffer.alloc(10_000));
    await closed;
    const msg = once(other, 'message');
    other.publish('size/ok', 'x');
    assert.equal((await msg)[0], 'size/ok');
    await other.endAsync();
    victim.end(true);
  });

  it('garbage bytes close that connection; the broker keeps serving', async () => {
    const sock = netConnect(broker.ports()['mqtt:tcp']!, HOST);
    await once(sock, 'connect');
    sock.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await once(sock, 'close');
    const c = await connected(tcp);
    await c.endAsync();
  });

  it('MQTT 3.1.1 §3.1.2.2 [MQTT-3.1.2-2]: a CONNECT with protocol level 5 gets CONNACK 0x01', async () => {
    const sock = netConnect(broker.ports()['mqtt:tcp']!, HOST);
    await once(sock, 'connect');
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    // CONNECT, "MQTT", level 5, clean session, keepalive 60, properties length 0, client id "v5"
    sock.write(Buffer.from([0x10, 0x0f, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x02, 0x76, 0x35]));
    await once(sock, 'close');
    assert.deepEqual([...Buffer.concat(chunks)], [0x20, 0x02, 0x00, 0x01]);
  });

  it('$SYS/broker statistics are published (Mosquitto topics)', async () => {
    const c = await connected(tcp);
    // The first message is the retained snapshot (which may predate this client); wait for a live one.
    const live = new Promise<[string, Buffer]>((resolve) =>
      c.on('message', (t, p, packet) => {
        if (!packet.retain) resolve([t, p]);
      }),
    );
    await c.subscribeAsync('$SYS/broker/clients/connected');
    const [topic, payload] = await live;
    assert.equal(topic, '$SYS/broker/clients/connected');
    assert.ok(Number(String(payload)) >= 1);
    await c.endAsync();
  });

  it('clients() lists connected clients with user and listener; disconnect() closes one', async () => {
    const c = await connected(tcp, { clientId: 'listed', username: 'alice', password: 'wonderland' });
    const me = broker.clients().find((x) => x.clientId === 'listed');
    assert.equal(me?.username, 'alice');
    assert.equal(me?.listener, 'mqtt:tcp');
    assert.equal(me?.remoteAddress, HOST);
    const closed = once(c, 'close');
    assert.equal(broker.disconnect('listed'), true);
    await closed;
    assert.equal(broker.disconnect('nobody'), false);
    c.end(true);
  });

  it('MQTT 3.1.1 §4.7.2: an in-process # subscription does not receive $SYS topics', async () => {
    const seen: string[] = [];
    const unsub = await broker.subscribe('#', (m) => {
      seen.push(m.topic);
    });
    await new Promise((r) => setTimeout(r, 250)); // $SYS is published every 100 ms here
    await broker.publish('plain/topic', 'x');
    await waitFor(() => seen.includes('plain/topic'));
    assert.ok(seen.every((t) => !t.startsWith('$')), seen.join(','));
    await unsub();
  });

  it('MQTT 3.1.1 §3.3.1.2: a client cannot publish into $SYS', async () => {
    const c = await connected(tcp);
    await c.subscribeAsync('$SYS/broker/version');
    await once(c, 'message');
    await c.publishAsync('$SYS/broker/version', 'fake', { qos: 1, retain: true });
    const c2 = await connected(tcp);
    await c2.subscribeAsync('$SYS/broker/version');
    const [, payload] = await once(c2, 'message');
    assert.match(String(payload), /m2mhub/);
    await c.endAsync();
    await c2.endAsync();
  });
});

describe('broker limits', () => {
  it('mqtt.limits.max_connections: a connection over the limit is closed; a freed slot is usable again', async () => {
    const broker = await createBroker({
      listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: HOST }],
      persistence: { kind: 'memory' },
      limits: { maxConnections: 2 },
      sysIntervalMs: 0,
    });
    await broker.listen();
    const url = `mqtt://${HOST}:${broker.ports()['mqtt:tcp']}`;
    try {
      const a = await connected(url);
      const b = await connected(url);
      const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 2000 });
      await once(c, 'close');
      assert.equal(c.connected, false);
      await a.endAsync();
      await waitFor(() => broker.connections() === 1);
      const d = await connected(url);
      await Promise.all([b.endAsync(), d.endAsync()]);
      c.end(true);
    } finally {
      await broker.stop();
    }
  });

  // Both backends: the level one regressed (every message dropped) when the bound re-entered itself.
  for (const kind of ['memory', 'level'] as const) {
  it(`mqtt.limits.max_queued (${kind}): an offline persistent session keeps at most N messages, the rest are dropped for it only`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2mhub-broker-'));
    const broker = await createBroker({
      listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: HOST }],
      persistence: kind === 'memory' ? { kind } : { kind, path: dir },
      limits: { maxQueued: 3 },
      sysIntervalMs: 0,
    });
    await broker.listen();
    const url = `mqtt://${HOST}:${broker.ports()['mqtt:tcp']}`;
    try {
      const s = await connected(url, { clientId: 'slowpoke', clean: false });
      await s.subscribeAsync('q/#', { qos: 1 });
      await s.endAsync();
      const other = await connected(url, { clientId: 'online' });
      await other.subscribeAsync('q/#', { qos: 1 });
      let otherGot = 0;
      other.on('message', () => otherGot++);
      for (let i = 0; i < 10; i++) await broker.publish(`q/${i}`, String(i), { qos: 1 });
      await waitFor(() => otherGot === 10);
      const got: string[] = [];
      const back = mqtt.connect(url, { clientId: 'slowpoke', clean: false, reconnectPeriod: 0 });
      back.on('message', (t) => got.push(t));
      await once(back, 'connect');
      await waitFor(() => got.length >= 3);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, ['q/0', 'q/1', 'q/2']);
      assert.equal(broker.counters().publishDropped, 7);
      // Acknowledged messages free the slots again.
      await broker.publish('q/later', 'x', { qos: 1 });
      await waitFor(() => got.includes('q/later'));
      await back.endAsync();
      await other.endAsync();
    } finally {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  }
});
