/**
 * DESIGN.md §5, cluster mode: two m2mhub processes sharing one redis-server (started here on a
 * free port) route MQTT messages between them, share retained messages, persistent sessions
 * and the store, and one keeps serving when the other is killed with SIGKILL. Driven with
 * Mosquitto's own clients.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { background, HOST, type HubProcess, portEnv, requireTool, run, sleep, spawnHub, startRedis, tempDir } from './helpers';

let redis: { url: string; stop(): void };
let hubA: HubProcess;
let hubB: HubProcess;
const dirs: string[] = [];

async function startNode(): Promise<HubProcess> {
  const dir = tempDir('m2mhub-cluster-');
  dirs.push(dir);
  return spawnHub({ dataDir: dir, env: { ...(await portEnv()), M2MHUB_CLUSTER__REDIS__URL: redis.url, M2MHUB_MQTT__SYS_INTERVAL: '0' } });
}

const mqttPort = (h: HubProcess) => String(h.ports['mqtt:tcp']);

/** mosquitto_sub in the background, resolved once its SUBACK is in (its -d debug output). */
async function subscribe(h: HubProcess, args: string[]) {
  const sub = background('mosquitto_sub', ['-d', '-h', HOST, '-p', mqttPort(h), '-v', ...args]);
  const until = Date.now() + 10_000;
  while (!sub.lines.some((l) => /received SUBACK/i.test(l))) {
    if (Date.now() > until) throw new Error(`no SUBACK: ${sub.lines.join('\n')}`);
    await sleep(20);
  }
  const messages = () => sub.lines.filter((l) => !l.startsWith('Client ') && !l.startsWith('Subscribed'));
  return {
    stop: () => sub.stop(),
    async wait(n: number): Promise<string[]> {
      const end = Date.now() + 10_000;
      while (messages().length < n && Date.now() < end) await sleep(20);
      return messages();
    },
  };
}

async function pub(h: HubProcess, topic: string, message: string, ...extra: string[]) {
  const r = await run('mosquitto_pub', ['-h', HOST, '-p', mqttPort(h), '-t', topic, '-m', message, ...extra]);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  requireTool('mosquitto_pub');
  requireTool('mosquitto_sub');
  redis = await startRedis();
  [hubA, hubB] = await Promise.all([startNode(), startNode()]);
});

after(async () => {
  await Promise.all([hubA?.kill('SIGKILL'), hubB?.kill('SIGKILL')]);
  redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('m2mhub cluster: two hubs on one Redis', () => {
  it('each hub has its own node id, kept in its data dir, and opens the shared Redis store', () => {
    const ids = [hubA, hubB].map((h, i) => {
      const open = h.logs.map((l) => JSON.parse(l) as { msg?: string; nodeId?: string; backend?: string }).find((j) => j.msg === 'store open');
      assert.equal(open?.backend, 'redis');
      assert.equal(readFileSync(join(dirs[i]!, 'node_id'), 'utf8').trim(), open?.nodeId);
      return open?.nodeId;
    });
    assert.notEqual(ids[0], ids[1]);
  });

  it('DESIGN.md §5: a subscriber on hub A gets QoS 0 and QoS 1 publishes made on hub B', async () => {
    const sub = await subscribe(hubA, ['-q', '1', '-t', 't/#']);
    try {
      await pub(hubB, 't/zero', 'q0', '-q', '0');
      await pub(hubB, 't/one', 'q1', '-q', '1');
      assert.deepEqual((await sub.wait(2)).sort(), ['t/one q1', 't/zero q0']);
    } finally {
      sub.stop();
    }
  });

  it('MQTT 3.1.1 §3.3.1.3: a retained message published on either hub is delivered to new subscribers on both', async () => {
    await pub(hubB, 'ret/b', 'from-b', '-q', '1', '-r');
    await pub(hubA, 'ret/a', 'from-a', '-q', '1', '-r');
    for (const h of [hubA, hubB]) {
      const r = await run('mosquitto_sub', ['-h', HOST, '-p', mqttPort(h), '-t', 'ret/#', '-v', '-C', '2', '-W', '5']);
      assert.deepEqual(r.stdout.trim().split('\n').sort(), ['ret/a from-a', 'ret/b from-b'], r.stderr);
    }
  });

  it('MQTT 3.1.1 §3.1.2.4: a persistent session created on A gets the QoS 1 messages published on B while it was offline, when it reconnects to B', async () => {
    const first = await run('mosquitto_sub', ['-h', HOST, '-p', mqttPort(hubA), '-i', 'cluster-durable', '-c', '-q', '1', '-t', 'p/#', '-W', '1']);
    assert.ok(first.code === 27 || first.code === 0, `mosquitto_sub: ${first.code} ${first.stderr}`);
    // The new subscription reaches B's subscription index through the routed broadcast.
    await sleep(300);
    for (const i of [1, 2, 3]) await pub(hubB, `p/m${i}`, `queued-${i}`, '-q', '1');
    const again = await run('mosquitto_sub', ['-h', HOST, '-p', mqttPort(hubB), '-i', 'cluster-durable', '-c', '-q', '1', '-t', 'p/#', '-v', '-C', '3', '-W', '10']);
    assert.deepEqual(again.stdout.trim().split('\n'), ['p/m1 queued-1', 'p/m2 queued-2', 'p/m3 queued-3'], again.stderr);
  });

  it('kill -9 of hub A: hub B keeps serving, and a persistent client of A resumes its session on B', async () => {
    const onA = await subscribe(hubA, ['-i', 'cluster-failover', '-c', '-q', '1', '-t', 'f/#']);
    const killed = await hubA.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    onA.stop();
    await pub(hubB, 'f/x', 'while-away', '-q', '1');
    const resumed = await run('mosquitto_sub', ['-h', HOST, '-p', mqttPort(hubB), '-i', 'cluster-failover', '-c', '-q', '1', '-t', 'f/#', '-v', '-C', '1', '-W', '10']);
    assert.equal(resumed.stdout.trim(), 'f/x while-away', resumed.stderr);
    const sub = await subscribe(hubB, ['-q', '1', '-t', 'after/#']);
    try {
      await pub(hubB, 'after/kill', 'still-here', '-q', '1');
      assert.deepEqual(await sub.wait(1), ['after/kill still-here']);
    } finally {
      sub.stop();
    }
    const ret = await run('mosquitto_sub', ['-h', HOST, '-p', mqttPort(hubB), '-t', 'ret/a', '-v', '-C', '1', '-W', '5']);
    assert.equal(ret.stdout.trim(), 'ret/a from-a');
  });
});
