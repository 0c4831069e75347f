/**
 * Issue #5 end to end: the object definitions API of a started hub (child process) —
 * list, get, upload an OMA object XML, delete, reload xml_dir — and a simulated device whose
 * vendor object is auto-observed and decoded with the uploaded model; uploads survive a restart.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CoapEndpoint } from '@m2mhub/coap';
import { ContentFormat, createObjectRegistry, parseObjectXml } from '@m2mhub/lwm2m';
// apps/hub does not list @m2mhub/simulator as a dependency (its package.json is not ours): as the other hub e2e tests.
import { deviceObject, ObjectTree, SimulatedDevice, startDevice } from '@m2mhub/simulator';
import { apiFetch, background, HOST, type HubProcess, portEnv, requireTool, spawnHub, tempDir } from './helpers';

function objectXml(id: number, name: string, items: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<LWM2M xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Object ObjectType="MODefinition">
    <Name>${name}</Name><Description1>test object</Description1>
    <ObjectID>${id}</ObjectID><ObjectURN>urn:oma:lwm2m:x:${id}</ObjectURN>
    <LWM2MVersion>1.0</LWM2MVersion><ObjectVersion>1.0</ObjectVersion>
    <MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
    <Resources>${items}</Resources>
    <Description2></Description2>
  </Object>
</LWM2M>
`;
}

function item(id: number, name: string, type: string, ops = 'R'): string {
  return `<Item ID="${id}"><Name>${name}</Name><Operations>${ops}</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory><Type>${type}</Type><RangeEnumeration></RangeEnumeration><Units></Units><Description>${name}</Description></Item>`;
}

const VENDOR = objectXml(32769, 'Vendor Sensor', item(1, 'Temperature', 'Float') + item(2, 'Place', 'String') + item(3, 'Alarm', 'Boolean'));
const FROM_DIR = objectXml(32770, 'Dir Object', item(1, 'Level', 'Integer'));

describe('hub: object definitions API (issue #5)', () => {
  let hub: HubProcess;
  let dataDir: string;
  let xmlDir: string;
  let env: Record<string, string>;
  let base: string;
  let endpoint: CoapEndpoint | undefined;
  const start = async () => {
    hub = await spawnHub({ dataDir, env });
    base = `http://${HOST}:${hub.ports['api:http']}/api/v5/gateways/lwm2m/objects`;
  };
  before(async () => {
    requireTool('mosquitto_sub');
    dataDir = tempDir('m2mhub-objects-');
    xmlDir = tempDir('m2mhub-xmldir-');
    writeFileSync(join(xmlDir, 'dir-object.xml'), FROM_DIR);
    env = { ...(await portEnv()), M2MHUB_LWM2M__XML_DIR: xmlDir };
    await start();
  });
  after(async () => {
    await endpoint?.close();
    await hub?.kill('SIGTERM');
  });

  const postXml = (body: string, type = 'application/xml') => apiFetch(base, { method: 'POST', headers: { 'content-type': type }, body });

  it('GET /objects lists built-in and xml_dir objects with id, name, version and source', async () => {
    const r = await apiFetch(base);
    assert.equal(r.status, 200);
    const { data } = (await r.json()) as { data: { id: number; name: string; version: string; source: string; origin?: string }[] };
    const device = data.find((o) => o.id === 3);
    assert.equal(device?.name, 'Device');
    assert.equal(device?.source, 'builtin');
    assert.deepEqual(data.find((o) => o.id === 32770), { id: 32770, name: 'Dir Object', version: '1.0', versions: ['1.0'], source: 'user', origin: 'xml_dir' });
    assert.equal(data.find((o) => o.id === 32769), undefined);
  });

  it('POST /objects: a broken XML is a 400 with the parser message, a JSON body a 415, an oversized body a 413', async () => {
    const broken = await postXml('<LWM2M><Object><ObjectID>12</Object>');
    assert.equal(broken.status, 400);
    const body = (await broken.json()) as { code: string; message: string };
    assert.equal(body.code, 'M2M_LWM2M_BAD_OBJECT_XML');
    assert.match(body.message, /uploaded XML: /);
    const json = await apiFetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
    assert.equal(json.status, 415);
    // lwm2m.max_object_xml_size (default 1 MiB) bounds the body before it is parsed.
    const big = await postXml(`<!--${'x'.repeat(1024 * 1024)}-->`);
    assert.equal(big.status, 413);
  });

  it('LwM2M Core Appendix D: an uploaded object is live at once: a device registering it is auto-observed and its TLV decoded by the new model', async () => {
    const up = await postXml(VENDOR, 'text/xml; charset=utf-8');
    assert.equal(up.status, 201, await up.clone().text());
    assert.deepEqual(await up.json(), { data: [{ id: 32769, name: 'Vendor Sensor', version: '1.0', source: 'user' }] });
    const got = (await (await apiFetch(`${base}/32769`)).json()) as { name: string; source: string; resources: { id: number; name: string; type: string }[] };
    assert.equal(got.source, 'user');
    assert.deepEqual(
      got.resources.map((r) => [r.id, r.name, r.type]),
      [
        [1, 'Temperature', 'float'],
        [2, 'Place', 'string'],
        [3, 'Alarm', 'boolean'],
      ],
    );

    // The device encodes with the same definition; TLV carries no types, so only the model makes 21.5 a float.
    const { registry } = createObjectRegistry({});
    registry.add(parseObjectXml(VENDOR)[0]!);
    const tree = ObjectTree.from({ 1: { 0: { 0: 1, 1: 300, 6: false, 7: 'U' } }, 3: { 0: deviceObject() }, 32769: { 0: { 1: 21.5, 2: 'lab', 3: true } } });
    const sub = background('mosquitto_sub', ['-h', HOST, '-p', String(hub.ports['mqtt:tcp']), '-t', 'up/resp', '-v']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const device = new SimulatedDevice({
        endpoint: 'vendor-dev',
        tree,
        lwm2mVersion: '1.0',
        binding: 'U',
        lifetime: 300,
        formats: { multi: ContentFormat.TLV, single: ContentFormat.TEXT },
        model: registry,
        server: { address: HOST, port: hub.ports['lwm2m:udp']!, family: 'IPv4' },
      });
      endpoint = await startDevice(device);
      assert.equal((await device.register()).code, '2.01');
      const deadline = Date.now() + 10_000;
      let observed: Record<string, unknown> | undefined;
      while (!observed && Date.now() < deadline) {
        for (const line of sub.lines) {
          const json = JSON.parse(line.slice(line.indexOf(' ') + 1)) as Record<string, unknown>;
          if ((json.data as { reqPath?: string }).reqPath === '/32769/0') observed = json;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(observed, `no auto-observe of /32769/0 in ${JSON.stringify(sub.lines)}`);
      assert.equal(observed.msgType, 'observe');
      assert.equal(observed.is_auto_observe, true);
      const data = observed.data as { code: string; content: { path: string; value: unknown }[] };
      assert.equal(data.code, '2.05');
      assert.deepEqual(
        [...data.content].sort((a, b) => a.path.localeCompare(b.path)),
        [
          { path: '/32769/0/1', value: 21.5 },
          { path: '/32769/0/2', value: 'lab' },
          { path: '/32769/0/3', value: true },
        ],
      );
    } finally {
      sub.stop();
    }
  });

  it('an uploaded object survives a restart; DELETE removes it (204, then 404); a built-in cannot be deleted (409)', async () => {
    await endpoint?.close();
    endpoint = undefined;
    await hub.kill('SIGTERM');
    await start();
    const after = (await (await apiFetch(`${base}/32769`)).json()) as { name: string; source: string };
    assert.deepEqual([after.name, after.source], ['Vendor Sensor', 'user']);
    assert.equal((await apiFetch(`${base}/32769`, { method: 'DELETE' })).status, 204);
    assert.equal((await apiFetch(`${base}/32769`)).status, 404);
    assert.equal((await apiFetch(`${base}/3`, { method: 'DELETE' })).status, 409);
    assert.equal((await apiFetch(`${base}/abc`)).status, 404);
  });

  it('POST /objects/reload re-reads xml_dir: a new file is loaded, a broken one listed in errors', async () => {
    writeFileSync(join(xmlDir, 'new.xml'), objectXml(32771, 'New Object', item(5, 'Count', 'Integer')));
    writeFileSync(join(xmlDir, 'broken.xml'), '<LWM2M><Object>');
    const r = await apiFetch(`${base}/reload`, { method: 'POST' });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { loaded: number; errors: { file: string; message: string }[] };
    assert.equal(body.loaded, 2);
    assert.equal(body.errors.length, 1);
    assert.match(body.errors[0]!.file, /broken\.xml$/);
    const o = (await (await apiFetch(`${base}/32771`)).json()) as { name: string; source: string };
    assert.deepEqual([o.name, o.source], ['New Object', 'user']);
  });
});
