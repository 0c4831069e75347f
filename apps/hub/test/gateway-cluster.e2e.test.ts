/**
 * Issue #6, DESIGN.md §5: LwM2M commands across a two-process cluster. Two real `m2mhub`
 * processes share one redis-server (started here on a free port): a simulated device registers
 * on hub A over UDP, `mosquitto_pub` sends its command to hub B's MQTT port, the broker routes it
 * to A, A executes it once (requests counted at the device) and the reply comes back through
 * the broker to `mosquitto_sub` on hub B. Exactly one 4.04 for an endpoint nobody holds, and a
 * 5.03 (not silence) once A is gone.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { CoapEndpoint } from '@m2mhub/coap';
import { basicProfile, SimulatedDevice, startDevice } from '@m2mhub/simulator';
import { background, HOST, type HubProcess, portEnv, requireTool, run, sleep, spawnHub, startRedis, tempDir } from './helpers';

let redis: { url: string; stop(): void };
let hubA: HubProcess;
let hubB: HubProcess;
let endpoint: CoapEndpoint | undefined;
const dirs: string[] = [];

async function startNode(name: string): Promise<HubProcess> {
  const dir = tempDir('m2mhub-gwcluster-');
  dirs.push(dir);
  return spawnHub({
    dataDir: dir,
    env: { ...(await portEnv()), M2MHUB_CLUSTER__REDIS__URL: redis.url, M2MHUB_CLUSTER__NODE_ID: name, M2MHUB_MQTT__SYS_INTERVAL: '0', M2MHUB_LWM2M__AUTO_OBSERVE: 'false' },
  });
}

const mqttPort = (h: HubProcess) => String(h.ports['mqtt:tcp']);

/** mosquitto_sub on `up/#` of hub `h`, resolved once its SUBACK is in. */
async function subscribe(h: HubProcess) {
  const sub = background('mosquitto_sub', ['-d', '-h', HOST, '-p', mqttPort(h), '-t', 'up/#', '-v']);
  const until = Date.now() + 10_000;
  while (!sub.lines.some((l) => /received SUBACK/i.test(l))) {
    if (Date.now() > until) throw new Error(`no SUBACK: ${sub.lines.join('\n')}`);
    await sleep(20);
  }
  const messages = () =>
    sub.lines
      .filter((l) => l.startsWith('up/'))
      .map((l) => ({ topic: l.slice(0, l.indexOf(' ')), json: JSON.parse(l.slice(l.indexOf(' ') + 1)) as Record<string, unknown> }));
  return {
    stop: () => sub.stop(),
    messages,
    async waitFor(pred: (m: { topic: string; json: Record<string, unknown> }) => boolean, ms = 10_000) {
      const end = Date.now() + ms;
      for (;;) {
        const hit = messages().find(pred);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`not received; got:\n${sub.lines.join('\n')}`);
        await sleep(20);
      }
    },
  };
}

async function pub(h: HubProcess, topic: string, message: string) {
  const r = await run('mosquitto_pub', ['-h', HOST, '-p', mqttPort(h), '-t', topic, '-m', message, '-q', '1']);
  assert.equal(r.code, 0, r.stderr);
}

const code = (j: Record<string, unknown>) => (j.data as { code?: string } | undefined)?.code;

before(async () => {
  requireTool('mosquitto_pub');
  requireTool('mosquitto_sub');
  redis = await startRedis();
  [hubA, hubB] = await Promise.all([startNode('hub-a'), startNode('hub-b')]);
});

after(async () => {
  await endpoint?.close();
  await Promise.all([hubA?.kill('SIGKILL'), hubB?.kill('SIGKILL')]);
  redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('hub cluster: LwM2M commands across two hub processes on one Redis', () => {
  it('DESIGN.md §5: mosquitto_pub on hub B reaches the device registered on hub A, runs once, the reply reaches mosquitto_sub on hub B', async () => {
    const sub = await subscribe(hubB);
    try {
      const udpA = hubA.ports['lwm2m:udp'];
      assert.ok(udpA, `lwm2m:udp in ${JSON.stringify(hubA.ports)}`);
      const device = new SimulatedDevice({ ...basicProfile('cluster-dev', '1.1'), server: { address: HOST, port: udpA!, family: 'IPv4' } });
      const seen: string[] = [];
      device.on('request', (r) => seen.push(`${r.method} ${r.path}`));
      endpoint = await startDevice(device);
      assert.equal((await device.register()).code, '2.01');
      // up/register, published on A, reaches B's subscriber through the broker.
      await sub.waitFor((m) => m.topic === 'up/register' && m.json.ep === 'cluster-dev');
      for (const reqID of ['c1', 'c2']) {
        await pub(hubB, 'dn/cluster-dev', JSON.stringify({ reqID, msgType: 'read', data: { path: '/3/0/2' } }));
        const r = await sub.waitFor((m) => m.topic === 'up/resp' && m.json.reqID === reqID);
        assert.equal(code(r.json), '2.05');
        assert.deepEqual((r.json.data as { content: unknown }).content, [{ path: '/3/0/2', value: (r.json.data as { content: { value: unknown }[] }).content[0]!.value }]);
      }
      await sleep(500);
      assert.equal(seen.filter((x) => x === 'GET /3/0/2').length, 2, `executed once per command: ${seen.join(', ')}`);
      assert.equal(sub.messages().filter((m) => m.topic === 'up/resp').length, 2, 'one reply per command, not one per node');
    } finally {
      sub.stop();
    }
  });

  it('exactly one hub answers 4.04 for an endpoint registered nowhere', async () => {
    const sub = await subscribe(hubA);
    try {
      await pub(hubB, 'dn/nowhere', '{"reqID":"nf","msgType":"read","data":{"path":"/3/0/2"}}');
      const r = await sub.waitFor((m) => m.topic === 'up/resp' && m.json.reqID === 'nf');
      assert.equal(code(r.json), '4.04');
      await sleep(500);
      assert.equal(sub.messages().filter((m) => m.json.reqID === 'nf').length, 1);
    } finally {
      sub.stop();
    }
  });

  it('hub A stopped: a command for its device gets one 5.03 from hub B instead of silence', async () => {
    const stopped = await hubA.kill('SIGTERM');
    assert.equal(stopped.code, 0, hubA.stderr());
    // B reuses a heartbeat read for up to a second.
    await sleep(1100);
    const sub = await subscribe(hubB);
    try {
      await pub(hubB, 'dn/cluster-dev', '{"reqID":"gone","msgType":"read","data":{"path":"/3/0/2"}}');
      const r = await sub.waitFor((m) => m.topic === 'up/resp' && m.json.reqID === 'gone');
      assert.equal(code(r.json), '5.03');
      assert.match(String((r.json.data as { error?: string }).error), /hub-a, which is gone/);
      await sleep(300);
      assert.equal(sub.messages().filter((m) => m.json.reqID === 'gone').length, 1);
    } finally {
      sub.stop();
    }
  });
});
