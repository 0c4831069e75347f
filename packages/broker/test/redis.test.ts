/** cluster.redis.url: Aedes persistence in Redis (aedes-persistence-redis) against a redis-server this test starts. */
import assert from 'node:assert/strict';
import { type EventEmitter, once as onceEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { startRedis } from '@m2mhub/core/testing';
import mqtt from 'mqtt';
import { createBroker, redisOptionsFromUrl } from '../src/index';

const once = (e: unknown, name: string) => onceEmitter(e as EventEmitter, name);
let redis: { url: string; stop(): void } | undefined;
let url = '';

before(async () => {
  redis = await startRedis();
  url = `${redis.url}/0`;
});
after(() => {
  redis?.stop();
});

describe('broker with Redis persistence', () => {
  it('redis URLs map to ioredis options; secrets stay out of the description', () => {
    assert.deepEqual(redisOptionsFromUrl('redis://u:p%40ss@h:7000/3'), {
      host: 'h',
      port: 7000,
      username: 'u',
      password: 'p@ss',
      db: 3,
      maxRetriesPerRequest: 3,
      connectTimeout: 5000,
    });
    assert.throws(() => redisOptionsFromUrl('http://x'));
  });

  it('retained messages and a persistent session survive a broker restart on the same Redis', async () => {
    const mk = () =>
      createBroker({ listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: '127.0.0.1' }], persistence: { kind: 'redis', url }, sysIntervalMs: 0 });
    let broker = await mk();
    await broker.listen();
    let port = broker.ports()['mqtt:tcp'];
    const c1 = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'redis-durable', clean: false, reconnectPeriod: 0 });
    await once(c1, 'connect');
    await c1.subscribeAsync('r/#', { qos: 1 });
    await c1.endAsync();
    await broker.publish('r/retained', 'kept', { qos: 1, retain: true });
    await broker.publish('r/queued', 'waiting', { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    await broker.stop();

    broker = await mk();
    await broker.listen();
    port = broker.ports()['mqtt:tcp'];
    try {
      const got: string[] = [];
      const c2 = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'redis-durable', clean: false, reconnectPeriod: 0 });
      c2.on('message', (t, p) => got.push(`${t}=${p}`));
      const [connack] = (await once(c2, 'connect')) as [{ sessionPresent: boolean }];
      assert.equal(connack.sessionPresent, true);
      const until = Date.now() + 5000;
      while (got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got.sort(), ['r/queued=waiting', 'r/retained=kept']);
      await c2.endAsync();
    } finally {
      await broker.stop();
    }
  });
});

describe('two brokers on one Redis (cluster routing, DESIGN.md §5)', () => {
  const mk = (id: string) =>
    createBroker({ id, listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: '127.0.0.1' }], persistence: { kind: 'redis', url }, sysIntervalMs: 0 });
  const waitFor = async (cond: () => boolean, what: string) => {
    const until = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('a publish on B reaches an MQTT subscriber and an in-process subscriber on A, QoS 0 and 1', async () => {
    const a = await mk('node-a');
    const b = await mk('node-b');
    await a.listen();
    await b.listen();
    try {
      const sub = mqtt.connect(`mqtt://127.0.0.1:${a.ports()['mqtt:tcp']}`, { clientId: 'x-sub', reconnectPeriod: 0 });
      await once(sub, 'connect');
      await sub.subscribeAsync('t/#', { qos: 1 });
      const got: string[] = [];
      sub.on('message', (t, p, pkt) => got.push(`${t}=${p}@${pkt.qos}`));
      const inproc: string[] = [];
      const unsub = await a.subscribe('t/#', (m) => {
        inproc.push(`${m.topic}=${m.payload}`);
      });
      const pub = mqtt.connect(`mqtt://127.0.0.1:${b.ports()['mqtt:tcp']}`, { clientId: 'x-pub', reconnectPeriod: 0 });
      await once(pub, 'connect');
      await pub.publishAsync('t/q0', 'zero', { qos: 0 });
      await pub.publishAsync('t/q1', 'one', { qos: 1 });
      await b.publish('t/api', 'from-b-api', { qos: 1 });
      await waitFor(() => got.length >= 3 && inproc.length >= 3, 'three deliveries on A');
      assert.deepEqual(got.sort(), ['t/api=from-b-api@1', 't/q0=zero@0', 't/q1=one@1']);
      assert.deepEqual(inproc.sort(), ['t/api=from-b-api', 't/q0=zero', 't/q1=one']);
      await unsub();
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a persistent session subscribed on A gets the QoS 1 messages published on B while it was offline, when it reconnects to B', async () => {
    const a = await mk('node-a2');
    const b = await mk('node-b2');
    await a.listen();
    await b.listen();
    try {
      const c1 = mqtt.connect(`mqtt://127.0.0.1:${a.ports()['mqtt:tcp']}`, { clientId: 'x-durable', clean: false, reconnectPeriod: 0 });
      await once(c1, 'connect');
      await c1.subscribeAsync('s/#', { qos: 1 });
      await c1.endAsync();
      // The subscription reaches B's subscription index through the routed broadcast.
      await new Promise((r) => setTimeout(r, 200));
      const pub = mqtt.connect(`mqtt://127.0.0.1:${b.ports()['mqtt:tcp']}`, { clientId: 'x-pub2', reconnectPeriod: 0 });
      await once(pub, 'connect');
      for (let i = 0; i < 5; i++) await pub.publishAsync('s/m', `m${i}`, { qos: 1 });
      await pub.endAsync();
      const got: string[] = [];
      const c2 = mqtt.connect(`mqtt://127.0.0.1:${b.ports()['mqtt:tcp']}`, { clientId: 'x-durable', clean: false, reconnectPeriod: 0 });
      c2.on('message', (_t, p) => got.push(String(p)));
      const [connack] = (await once(c2, 'connect')) as [{ sessionPresent: boolean }];
      assert.equal(connack.sessionPresent, true);
      await waitFor(() => got.length >= 5, 'five queued messages');
      assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4']);
      await c2.endAsync();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
