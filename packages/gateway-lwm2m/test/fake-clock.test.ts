/**
 * The gateway's timed behaviour with a fake clock (FakeScheduler) over an in-memory datagram
 * network: queue-mode sleep after qmode_time_window, queued commands expiring after
 * queue_ttl, coap_timeout after the CoAP retransmissions of RFC 7252 §4.2, lifetime clamp.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBroker } from '@m2mhub/broker';
import { CoapEndpoint, MemoryNetwork } from '@m2mhub/coap';
import { silentLogger } from '@m2mhub/core';
import { FakeScheduler, SeededRandom } from '@m2mhub/core/testing';
import { createLwm2mServer, createObjectRegistry } from '@m2mhub/lwm2m';
import { basicProfile, SimulatedDevice, startDevice } from '@m2mhub/simulator';
import { createMemoryStore } from '@m2mhub/store';
import { attachListener, Lwm2mGatewayCore, parseConfig, ServerExecutor, wireServer } from '../src/index';

const flush = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function setup(raw: Record<string, unknown>, devOpts: { queueMode?: boolean; lifetime?: number } = {}) {
  const sched = new FakeScheduler();
  const random = new SeededRandom(7);
  const net = new MemoryNetwork(sched, random);
  const cfg = parseConfig({ auto_observe: false, ...raw });
  const { registry: model } = createObjectRegistry();
  const server = createLwm2mServer({
    model,
    scheduler: sched,
    random,
    config: { awakeWindowMs: cfg.qmode_time_window * 1000, requestTimeoutMs: cfg.request_timeout * 1000, expiryGraceMs: 0 },
  });
  const serverEp = new CoapEndpoint({ transport: net.transport('10.0.0.100', 5683), scheduler: sched, random });
  attachListener(server, 'udp', serverEp, cfg);
  await serverEp.start();
  const broker = await createBroker({ listeners: [], persistence: { kind: 'memory' }, sysIntervalMs: 0 });
  const store = createMemoryStore();
  await store.open();
  const core = new Lwm2mGatewayCore({
    config: cfg,
    broker,
    executor: new ServerExecutor(server),
    model,
    queue: store.queue('cmds', { maxLength: cfg.max_queue_length }),
    scheduler: sched,
    logger: silentLogger,
  });
  wireServer(server, core, cfg.sensitive_params);
  await core.start();
  const out: { topic: string; json: Record<string, unknown> }[] = [];
  await broker.subscribe('up/#', (m) => {
    out.push({ topic: m.topic, json: JSON.parse(m.payload.toString()) as Record<string, unknown> });
  });
  const device = new SimulatedDevice({ ...basicProfile('fc', '1.1'), ...devOpts, server: serverEp.address(), scheduler: sched });
  const devEp = await startDevice(device, { transport: net.transport(), scheduler: sched, random });
  const run = async <T>(p: Promise<T>, stepMs = 10, maxMs = 300_000): Promise<T> => {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    p.then(
      (v) => {
        done = true;
        value = v;
      },
      (e) => {
        done = true;
        error = e;
      },
    );
    for (let t = 0; !done && t < maxMs; t += stepMs) {
      await flush(3);
      sched.advance(stepMs);
    }
    await flush();
    if (error) throw error;
    assert.ok(done, 'operation did not finish');
    return value as T;
  };
  const advance = async (ms: number, step = 100) => {
    for (let t = 0; t < ms; t += step) {
      sched.advance(step);
      await flush(3);
    }
    await flush();
  };
  const close = async () => {
    await core.stop();
    await server.close();
    await devEp.close();
    await serverEp.close();
    await broker.stop();
  };
  return { sched, net, server, core, broker, device, out, run, advance, close };
}

const code = (j: Record<string, unknown>) => (j.data as { code?: string } | undefined)?.code;

describe('gateway timing with a fake clock', () => {
  it('LwM2M Core §6.5: sleeping after qmode_time_window; a queued command expires after queue_ttl with 5.04', async () => {
    const t = await setup({ qmode_time_window: 93, queue_ttl: 60 }, { queueMode: true });
    try {
      assert.equal((await t.run(t.device.register())).code, '2.01');
      await t.advance(92_000);
      assert.equal(t.out.filter((m) => m.json.msgType === 'sleeping').length, 0);
      await t.advance(2_000);
      assert.equal(t.out.filter((m) => m.json.msgType === 'sleeping').length, 1);
      t.device.sleep();
      await t.core.command('fc', JSON.stringify({ reqID: 1, msgType: 'read', data: { path: '/3/0/0' } }));
      await t.advance(100);
      assert.equal(t.out.find((m) => m.json.reqID === 1)?.json.msgType, 'ack');
      await t.advance(59_000);
      assert.equal(t.out.filter((m) => m.json.reqID === 1 && m.json.msgType === 'read').length, 0);
      await t.advance(2_000);
      const exp = t.out.find((m) => m.json.reqID === 1 && m.json.msgType === 'read');
      assert.equal(exp && code(exp.json), '5.04');
    } finally {
      await t.close();
    }
  });

  it('RFC 7252 §4.2: a device that never answers gives coap_timeout after the retransmissions, not before', async () => {
    const t = await setup({ request_timeout: 93 });
    try {
      assert.equal((await t.run(t.device.register())).code, '2.01');
      t.net.dropIf = (_from, to) => to.address !== '10.0.0.100'; // the device hears nothing any more
      await t.core.command('fc', JSON.stringify({ reqID: 'late', msgType: 'read', data: { path: '/3/0/0' } }));
      await t.advance(40_000, 500);
      assert.equal(t.out.filter((m) => m.json.reqID === 'late').length, 0);
      await t.advance(60_000, 500);
      const to = t.out.find((m) => m.json.reqID === 'late');
      assert.equal(to?.json.msgType, 'coap_timeout');
      assert.deepEqual(to?.json.data, { path: '/3/0/0' });
    } finally {
      await t.close();
    }
  });

  it('lifetime_max clamps lt: a registration with lt=86400 expires after lifetime_max (expired on up/event)', async () => {
    const t = await setup({ lifetime_max: 120 }, { lifetime: 86_400 });
    try {
      assert.equal((await t.run(t.device.register())).code, '2.01');
      await t.advance(100);
      assert.equal((t.out.find((m) => m.topic === 'up/register')!.json.data as { lt: number }).lt, 120);
      await t.advance(119_000, 1000);
      assert.equal(t.out.filter((m) => m.json.msgType === 'expired').length, 0);
      await t.advance(2_000, 500);
      assert.equal(t.out.filter((m) => m.json.msgType === 'expired').length, 1);
    } finally {
      await t.close();
    }
  });
});
