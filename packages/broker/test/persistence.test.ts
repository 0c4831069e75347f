/** Aedes persistence through our wrapper (withQueueBound), on the embedded LevelDB backend. */
import assert from 'node:assert/strict';
import { type EventEmitter, once as onceEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { createBroker } from '../src/index';

const once = (e: unknown, name: string) => onceEmitter(e as EventEmitter, name);

describe('broker persistence (level)', () => {
  it('MQTT 3.1.1 §3.1.2.4: a clean session replacing a persistent one discards its queue, QoS 1 to clean subscribers still flows, and the persistent session queues again afterwards (regression guard for skipping the PUBACK lookup of clean sessions)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2mhub-broker-level-'));
    const broker = await createBroker({
      listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: '127.0.0.1' }],
      persistence: { kind: 'level', path: dir },
      sysIntervalMs: 0,
    });
    await broker.listen();
    const url = `mqtt://127.0.0.1:${broker.ports()['mqtt:tcp']}`;
    const connect = async (clientId: string, clean: boolean) => {
      const c = mqtt.connect(url, { clientId, clean, reconnectPeriod: 0 });
      const got: string[] = [];
      c.on('message', (_t, p) => got.push(String(p)));
      const [connack] = (await once(c, 'connect')) as [{ sessionPresent: boolean }];
      return { c, got, sessionPresent: connack.sessionPresent };
    };
    const settle = async (cond: () => boolean) => {
      const until = Date.now() + 3000;
      while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      const p1 = await connect('sess', false);
      await p1.c.subscribeAsync('q/#', { qos: 1 });
      await p1.c.endAsync();
      await broker.publish('q/1', 'stale', { qos: 1 });

      // Clean session with the same id: the old queue goes, nothing is delivered from it.
      const clean = await connect('sess', true);
      assert.equal(clean.sessionPresent, false);
      await clean.c.subscribeAsync('c/#', { qos: 1 });
      for (let i = 0; i < 50; i++) await broker.publish('c/x', `c${i}`, { qos: 1 });
      await settle(() => clean.got.length >= 50);
      assert.equal(clean.got.length, 50);
      assert.ok(!clean.got.includes('stale'));
      await clean.c.endAsync();

      // A new persistent session: no stale message, and queuing works again.
      const p2 = await connect('sess', false);
      await p2.c.subscribeAsync('q/#', { qos: 1 });
      await p2.c.endAsync();
      await broker.publish('q/2', 'fresh', { qos: 1 });
      const p3 = await connect('sess', false);
      assert.equal(p3.sessionPresent, true);
      await settle(() => p3.got.length >= 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(p3.got, ['fresh']);
      await p3.c.endAsync();
    } finally {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
