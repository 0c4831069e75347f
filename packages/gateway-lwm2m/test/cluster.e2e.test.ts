/**
 * Two gateway nodes of a cluster in one process (docs/mqtt-api.md "Cluster"): one real
 * broker (both subscribe through it, as two hubs do through the Redis-routed broker), one
 * shared store, two UDP listeners, simulated devices. Only the node owning a device's session
 * executes its commands; exactly one node answers when nobody can; a gone owner gives 5.03.
 * Also: a command matched by two subscriptions runs once (dedupe by message).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrokerClient } from '@m2mhub/gateway';
import { basicProfile } from '@m2mhub/simulator';
import type { Lwm2mGateway } from '../src/index';
import { Harness } from './harness';

const ph = (name: string) => `$${'{'}${name}}`;
const code = (r: Record<string, unknown>) => (r.data as { code: string }).code;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST = { auto_observe: false, cluster_heartbeat: '100ms', cluster_node_timeout: '400ms' };

async function twoNodes(): Promise<{ h: Harness; a: Lwm2mGateway; b: Lwm2mGateway }> {
  const h = await Harness.start(FAST, {}, 'up/#', { nodeId: 'node-a', clustered: true });
  const b = await h.createGateway(0, FAST, { nodeId: 'node-b', clustered: true });
  return { h, a: h.gateway, b };
}

function replies(h: Harness, reqID: string) {
  return h.received.filter((m) => m.topic === 'up/resp' && m.json.reqID === reqID);
}

describe('cluster: two gateway nodes on one broker and one store', () => {
  it('DESIGN.md §5: a command reaches the device held by the other node, is executed once, and answered once', async () => {
    const { h, a, b } = await twoNodes();
    try {
      const d = await h.device(basicProfile('on-a', '1.1'));
      const seen: string[] = [];
      d.on('request', (r) => seen.push(`${r.method} ${r.path}`));
      for (const reqID of ['r1', 'r2', 'r3']) {
        const r = await h.command('on-a', { reqID, msgType: 'read', data: { path: '/3/0/2' } });
        assert.equal(code(r), '2.05');
      }
      await sleep(200);
      assert.equal(seen.filter((x) => x === 'GET /3/0/2').length, 3);
      for (const reqID of ['r1', 'r2', 'r3']) assert.equal(replies(h, reqID).length, 1, reqID);
      assert.equal(b.client('on-a'), undefined);
      assert.equal(a.stats().other_node, 0);
      assert.equal(b.stats().other_node, 3);
    } finally {
      await b.stop();
      await h.close();
    }
  });

  it('shared store unreachable while routing: the node holding the session still runs the command, once; the other stays silent', async () => {
    // Before: a rejected ownership lookup (Redis down) left every command unanswered.
    const { h, a, b } = await twoNodes();
    try {
      const d = await h.device(basicProfile('on-a', '1.1'));
      const seen: string[] = [];
      d.on('request', (r) => seen.push(`${r.method} ${r.path}`));
      for (const node of [a, b]) {
        (node as unknown as { cluster: { ownerOf(ep: string): Promise<string | undefined> } }).cluster.ownerOf = () => Promise.reject(new Error('store down'));
      }
      const r = await h.command('on-a', { reqID: 'down1', msgType: 'read', data: { path: '/3/0/2' } });
      assert.equal(code(r), '2.05');
      await sleep(200);
      assert.equal(seen.filter((x) => x === 'GET /3/0/2').length, 1);
      assert.equal(replies(h, 'down1').length, 1);
      assert.equal(b.stats().other_node, 1);
    } finally {
      await b.stop();
      await h.close();
    }
  });

  it('EMQX REST shortcut on the node without the device: the command goes to the owner through the broker (204), runs once; unknown endpoint 404', async () => {
    const h = await Harness.start(FAST, {}, 'up/#', { nodeId: 'node-a', clustered: true });
    const first = h.routes.length;
    const b = await h.createGateway(0, FAST, { nodeId: 'node-b', clustered: true });
    const routesB = h.routes.slice(first);
    try {
      const d = await h.device(basicProfile('via-api', '1.1'));
      const seen: string[] = [];
      d.on('request', (r) => seen.push(r.path));
      const read = routesB.find((r) => r.method === 'GET' && r.url === '/clients/:ep/read')!;
      const from = h.received.length;
      assert.equal((await read.handler({ params: { ep: 'via-api' }, query: { path: '/3/0/2' }, body: undefined })).status, 204);
      const r = await h.waitFor((m) => m.topic === 'up/resp' && m.json.ep === 'via-api' && m.json.msgType === 'read', 5000, from);
      assert.equal(code(r.json), '2.05');
      await sleep(200);
      assert.deepEqual(seen, ['/3/0/2']);
      assert.equal((await read.handler({ params: { ep: 'nowhere' }, query: { path: '/3/0/2' }, body: undefined })).status, 404);
    } finally {
      await b.stop();
      await h.close();
    }
  });

  it('exactly one node answers 4.04 for an endpoint nobody registered, also for a bad command', async () => {
    const { h, b } = await twoNodes();
    try {
      const nf = await h.command('nobody', { reqID: 'n', msgType: 'read', data: { path: '/3/0/2' } });
      assert.equal(code(nf), '4.04');
      assert.match(String((nf.data as { error: string }).error), /not registered/);
      await h.publish('dn/nobody', '{"reqID":"bad","msgType":"read","data":{"path":"/x"}}');
      await h.publish('dn/nobody', 'not json');
      await sleep(300);
      assert.equal(replies(h, 'n').length, 1, 'one 4.04, not one per node');
      assert.equal(replies(h, 'bad').length, 1);
      assert.equal(code(replies(h, 'bad')[0]!.json), '4.04', 'an unknown endpoint wins over a bad command');
      assert.equal(h.received.filter((m) => m.topic === 'up/resp' && m.json.ep === 'nobody').length, 3);
    } finally {
      await b.stop();
      await h.close();
    }
  });

  it('an owner that stopped (heartbeat removed) or went silent (heartbeat older than cluster_node_timeout): one 5.03 instead of silence', async () => {
    const { h, a, b } = await twoNodes();
    try {
      await h.device(basicProfile('orphan', '1.1'));
      assert.equal(code(await h.command('orphan', { reqID: 'ok', msgType: 'read', data: { path: '/3/0/2' } })), '2.05');
      // Node A crashes: its heartbeat stays in the store, aging.
      await a.stop();
      await h.store.kv('lwm2m.nodes').put('n/node-a', Date.now());
      await h.publish('dn/orphan', { reqID: 'early', msgType: 'read', data: { path: '/3/0/2' } });
      await sleep(150);
      assert.equal(replies(h, 'early').length, 0, 'the owner still counts as alive within cluster_node_timeout');
      await sleep(400);
      const r = await h.command('orphan', { reqID: 'late', msgType: 'read', data: { path: '/3/0/2' } });
      assert.equal(code(r), '5.03');
      assert.match(String((r.data as { error: string }).error), /node-a, which is gone/);
      // A clean stop removes the heartbeat: at once gone.
      await h.store.kv('lwm2m.nodes').delete('n/node-a');
      await sleep(200);
      assert.equal(replies(h, 'late').length, 1);
      assert.equal(code(await h.command('orphan', { reqID: 'now', msgType: 'read', data: { path: '/3/0/2' } })), '5.03');
    } finally {
      await b.stop();
      await h.close();
    }
  });

  it('LwM2M Core §6.2.1: a gone node\'s registration expires on a surviving node once its lifetime is over: one `expired` event, then 4.04', async () => {
    const h = await Harness.start(FAST, { server: { expiryGraceMs: 0 } }, 'up/#', { nodeId: 'node-a', clustered: true });
    const b = await h.createGateway(0, FAST, { nodeId: 'node-b', clustered: true });
    const c = await h.createGateway(0, FAST, { nodeId: 'node-c', clustered: true });
    try {
      await h.device({ ...basicProfile('short-lived', '1.1'), lifetime: 1 });
      await h.gateway.stop();
      await h.store.kv('lwm2m.nodes').put('n/node-a', Date.now()); // a crash: the heartbeat stays and ages
      const expired = await h.waitFor((m) => m.topic === 'up/event' && m.json.ep === 'short-lived' && m.json.msgType === 'expired', 5000);
      assert.deepEqual(expired.json.data, { reason: 'expired' });
      await sleep(1000); // two more sweeps of each node
      assert.equal(h.received.filter((m) => m.topic === 'up/event' && m.json.ep === 'short-lived').length, 1, 'expired by one node, once');
      assert.equal(code(await h.command('short-lived', { reqID: 'x', msgType: 'read', data: { path: '/3/0/2' } })), '4.04');
    } finally {
      await c.stop();
      await b.stop();
      await h.close();
    }
  });

  it('a device that registers again through the other node: the new owner executes, the old node drops its session', async () => {
    const { h, a, b } = await twoNodes();
    try {
      const first = await h.device(basicProfile('mover', '1.1'));
      const seenA: string[] = [];
      first.on('request', (r) => seenA.push(r.path));
      assert.equal(code(await h.command('mover', { reqID: 'before', msgType: 'read', data: { path: '/3/0/2' } })), '2.05');
      const second = await h.device(basicProfile('mover', '1.1'), true, b);
      const seenB: string[] = [];
      second.on('request', (r) => seenB.push(r.path));
      await h.waitFor((m) => m.topic === 'up/register' && m.json.ep === 'mover' && h.received.filter((x) => x.topic === 'up/register').length === 2);
      const r = await h.command('mover', { reqID: 'after', msgType: 'read', data: { path: '/3/0/2' } });
      assert.equal(code(r), '2.05');
      await sleep(200);
      assert.deepEqual(seenA, ['/3/0/2']);
      assert.deepEqual(seenB, ['/3/0/2']);
      assert.equal(replies(h, 'after').length, 1);
      assert.equal(a.client('mover'), undefined);
      assert.equal(a.stats().moved, 1);
      assert.ok(b.client('mover'));
    } finally {
      await b.stop();
      await h.close();
    }
  });
});

/** The broker as seen through two overlapping subscriptions (e.g. `dn/#` and `dn/+`) feeding one handler. */
function overlapping(extra: string, stripIds: boolean) {
  return (broker: BrokerClient): BrokerClient => ({
    publish: (t, p, o) => broker.publish(t, p, o),
    async subscribe(filter, handler, opts) {
      const h: typeof handler = (m) => {
        if (!stripIds) return handler(m);
        const { id: _id, ...rest } = m;
        return handler(rest);
      };
      const u1 = await broker.subscribe(filter, h, opts);
      const u2 = await broker.subscribe(extra, h, opts);
      return async () => {
        await u1();
        await u2();
      };
    },
  });
}

describe('dedupe: a command matched by two subscriptions runs once', () => {
  for (const stripIds of [false, true]) {
    it(`MQTT 3.1.1 §4.7: mountpoint lwm2m/${ph('endpoint_name')}/ with command dn/# plus an overlapping lwm2m/+/dn/+ (${stripIds ? 'no broker id: topic+payload digest' : 'broker message id'})`, async () => {
      const h = await Harness.start({ auto_observe: false, mountpoint: `lwm2m/${ph('endpoint_name')}/`, translators: { command: { topic: 'dn/#' } } }, {}, 'lwm2m/#', {
        wrapBroker: overlapping('lwm2m/+/dn/+', stripIds),
      });
      try {
        const d = await h.device(basicProfile('ovl', '1.1'));
        const seen: string[] = [];
        d.on('request', (r) => seen.push(`${r.method} ${r.path}`));
        const r = await h.command('ovl', { reqID: 'once', msgType: 'read', data: { path: '/3/0/2' } }, { topic: 'lwm2m/ovl/dn/cmd', replyTopic: 'lwm2m/ovl/up/resp' });
        assert.equal(code(r), '2.05');
        // The same JSON published again is a new command: it runs again (after the digest interval without ids).
        if (stripIds) await sleep(1100);
        await h.command('ovl', { reqID: 'once', msgType: 'read', data: { path: '/3/0/2' } }, { topic: 'lwm2m/ovl/dn/cmd', replyTopic: 'lwm2m/ovl/up/resp' });
        await sleep(150);
        assert.equal(seen.filter((x) => x === 'GET /3/0/2').length, 2);
        assert.equal(h.received.filter((m) => m.topic === 'lwm2m/ovl/up/resp' && m.json.reqID === 'once').length, 2);
        assert.equal(h.gateway.stats().duplicates, 2);
      } finally {
        await h.close();
      }
    });
  }
});
