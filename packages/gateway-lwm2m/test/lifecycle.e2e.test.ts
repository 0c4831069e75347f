import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basicProfile, wakaamaProfile } from '@m2mhub/simulator';

import { Harness } from './harness';

const ph = (name: string) => `$${'{'}${name}}`;
const code = (r: Record<string, unknown>) => (r.data as { code: string }).code;

describe('queue mode, lifecycle events, EMQX mountpoint (real broker, UDP, simulated devices)', () => {
  it('LwM2M Core §6.5: commands for a sleeping device are queued (ack queued), sent when it wakes; sleeping/awake on up/event', async () => {
    const h = await Harness.start({ qmode_time_window: '300ms', auto_observe: false });
    try {
      const d = await h.device({ ...basicProfile('sleepy', '1.1'), queueMode: true });
      await h.waitFor((r) => r.topic === 'up/event' && r.json.ep === 'sleepy' && r.json.msgType === 'sleeping', 3000);
      d.sleep();
      let from = h.received.length;
      await h.publish('dn/sleepy', { reqID: 'q1', msgType: 'read', data: { path: '/3303/0/5700' } });
      const ack = await h.waitFor((r) => r.topic === 'up/resp' && r.json.reqID === 'q1', 3000, from);
      assert.equal(ack.json.msgType, 'ack');
      assert.equal(ack.json.queued, true);
      assert.deepEqual(ack.json.data, { path: '/3303/0/5700' });
      from = h.received.length;
      assert.equal((await d.wake()).code, '2.04');
      const reply = await h.waitFor((r) => r.topic === 'up/resp' && r.json.reqID === 'q1' && r.json.msgType === 'read', 3000, from);
      assert.equal(code(reply.json), '2.05');
      await h.waitFor((r) => r.topic === 'up/event' && r.json.ep === 'sleepy' && r.json.msgType === 'awake', 3000, from);
      // update_msg_publish_condition = contains_object_list (default): an Update without objects is not published.
      assert.equal(h.received.filter((r) => r.topic === 'up/update').length, 0);
    } finally {
      await h.close();
    }
  });

  it('queue mode: a full queue and an expired command get error replies', async () => {
    const h = await Harness.start({ qmode_time_window: '200ms', queue_ttl: '500ms', max_queue_length: 2, auto_observe: false });
    try {
      const d = await h.device({ ...basicProfile('sleepy2', '1.1'), queueMode: true });
      await h.waitFor((r) => r.topic === 'up/event' && r.json.ep === 'sleepy2' && r.json.msgType === 'sleeping', 3000);
      d.sleep();
      const from = h.received.length;
      for (const id of ['a', 'b', 'c']) await h.publish('dn/sleepy2', { reqID: id, msgType: 'read', data: { path: '/3/0/0' } });
      const full = await h.waitFor((r) => r.topic === 'up/resp' && r.json.reqID === 'c' && r.json.msgType === 'read', 3000, from);
      assert.equal(code(full.json), '5.03');
      assert.match((full.json.data as { error: string }).error, /full/);
      const expA = await h.waitFor((r) => r.topic === 'up/resp' && r.json.reqID === 'a' && r.json.msgType === 'read', 3000, from);
      const expB = await h.waitFor((r) => r.topic === 'up/resp' && r.json.reqID === 'b' && r.json.msgType === 'read', 3000, from);
      assert.equal(code(expA.json), '5.04');
      assert.equal(code(expB.json), '5.04');
      assert.match((expA.json.data as { error: string }).error, /expired/);
    } finally {
      await h.close();
    }
  });

  it('lifecycle: replaced, kicked (DELETE /clients/{ep}), expired on up/event', async () => {
    const h = await Harness.start({ auto_observe: false }, { server: { expiryGraceMs: 0 } });
    try {
      await h.device(basicProfile('twice', '1.1'));
      let from = h.received.length;
      await h.device(basicProfile('twice', '1.1'));
      const replaced = await h.waitFor((r) => r.topic === 'up/event' && r.json.ep === 'twice', 3000, from);
      assert.equal(replaced.json.msgType, 'replaced');
      await h.waitFor((r) => r.topic === 'up/register' && r.json.ep === 'twice', 3000, from);

      const list = h.routes.find((r) => r.method === 'GET' && r.url === '/clients')!;
      const page = (await list.handler({ params: {}, query: { limit: '10' }, body: undefined })).body as { data: { clientid: string }[]; meta: { count: number } };
      assert.deepEqual(page.data.map((c) => c.clientid), ['twice']);
      const one = h.routes.find((r) => r.method === 'GET' && r.url === '/clients/:ep')!;
      assert.equal((await one.handler({ params: { ep: 'twice' }, query: {}, body: undefined })).status, 200);
      assert.equal((await one.handler({ params: { ep: 'nope' }, query: {}, body: undefined })).status, 404);

      from = h.received.length;
      const kick = h.routes.find((r) => r.method === 'DELETE' && r.url === '/clients/:ep')!;
      assert.equal((await kick.handler({ params: { ep: 'twice' }, query: {}, body: undefined })).status, 204);
      const kicked = await h.waitFor((r) => r.topic === 'up/event' && r.json.ep === 'twice', 3000, from);
      assert.equal(kicked.json.msgType, 'kicked');
      assert.equal(h.gateway.client('twice'), undefined);

      from = h.received.length;
      await h.device({ ...basicProfile('short', '1.1'), lifetime: 1 });
      const expired = await h.waitFor((r) => r.topic === 'up/event' && r.json.ep === 'short', 4000, from);
      assert.equal(expired.json.msgType, 'expired');
    } finally {
      await h.close();
    }
  });

  it('EMQX default mountpoint lwm2m/<endpoint_name placeholder>/ with command dn/#: per-device topics', async () => {
    const h = await Harness.start({ mountpoint: `lwm2m/${ph('endpoint_name')}/`, translators: { command: { topic: 'dn/#' } }, auto_observe: false });
    try {
      await h.device(basicProfile('m1', '1.1'));
      await h.device(basicProfile('m2', '1.1'));
      await h.waitFor((r) => r.topic === 'lwm2m/m1/up/register');
      await h.waitFor((r) => r.topic === 'lwm2m/m2/up/register');
      const r1 = await h.command('m1', { reqID: 1, msgType: 'read', data: { path: '/3/0/0' } }, { topic: 'lwm2m/m1/dn', replyTopic: 'lwm2m/m1/up/resp' });
      assert.equal(code(r1), '2.05');
      const r2 = await h.command('m2', { reqID: 2, msgType: 'read', data: { path: '/3/0/0' } }, { topic: 'lwm2m/m2/dn/x', replyTopic: 'lwm2m/m2/up/resp' });
      assert.equal(code(r2), '2.05');
      assert.equal(h.received.filter((r) => r.topic === 'lwm2m/m2/up/resp' && r.json.reqID === 1).length, 0);
    } finally {
      await h.close();
    }
  });

  it('DESIGN.md §5: after a gateway restart on the same store, the device is still registered and its observation still notifies with the original command', async () => {
    const h = await Harness.start({ auto_observe: false });
    try {
      const d = await h.device(basicProfile('durable', '1.1'));
      const obs = await h.command('durable', { reqID: 'o1', msgType: 'observe', data: { path: '/3303/0/5700' } });
      assert.equal(code(obs), '2.05');
      await h.restartGateway();
      assert.ok(h.gateway.client('durable'), 'registration restored');
      const from = h.received.length;
      d.setValue('/3303/0/5700', 30.5);
      const n = await h.waitFor((r) => r.topic === 'up/notify' && r.json.ep === 'durable', 5000, from);
      assert.equal(n.json.reqID, 'o1');
      assert.deepEqual((n.json.data as { content: unknown }).content, [{ path: '/3303/0/5700', value: 30.5 }]);
      const read = await h.command('durable', { reqID: 'r1', msgType: 'read', data: { path: '/3/0/0' } });
      assert.equal(code(read), '2.05');
    } finally {
      await h.close();
    }
  });

  it('xml_dir: a custom object definition types its values and makes auto-observe include it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2mhub-xml-'));
    writeFileSync(
      join(dir, '31024.xml'),
      `<?xml version="1.0" encoding="UTF-8"?>
<LWM2M><Object ObjectType="MODefinition"><Name>Wakaama test object</Name><ObjectID>31024</ObjectID><ObjectVersion>1.0</ObjectVersion>
<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory><Resources>
<Item ID="1"><Name>Label</Name><Operations>RW</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory><Type>String</Type></Item>
<Item ID="2"><Name>Count</Name><Operations>RW</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory><Type>Integer</Type></Item>
</Resources></Object></LWM2M>`,
    );
    const h = await Harness.start({ xml_dir: dir });
    try {
      await h.device(wakaamaProfile('with-xml'));
      await h.waitFor((r) => r.json.is_auto_observe === true && (r.json.data as { reqPath: string }).reqPath === '/31024/12', 5000);
      const paths = h.received.filter((r) => r.topic === 'up/resp' && r.json.is_auto_observe === true).map((r) => (r.json.data as { reqPath: string }).reqPath);
      assert.deepEqual(paths.sort(), ['/3/0', '/31024/10', '/31024/11', '/31024/12']);
      const w = await h.command('with-xml', { reqID: 'w', msgType: 'write', data: { path: '/31024/10/2', value: '42' } });
      assert.equal(code(w), '2.04');
      const r = await h.command('with-xml', { reqID: 'r', msgType: 'read', data: { path: '/31024/10/2' } });
      assert.deepEqual((r.data as { content: unknown }).content, [{ path: '/31024/10/2', value: 42 }]);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
