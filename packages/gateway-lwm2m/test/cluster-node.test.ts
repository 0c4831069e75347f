/**
 * The cluster membership and one-answer claim (src/cluster.ts) with a fake clock
 * (FakeScheduler) over one shared in-memory store: heartbeats, the node timeout, a clean stop,
 * claims won by exactly one node and released after their lifetime. docs/mqtt-api.md "Cluster".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger, systemRandom } from '@m2mhub/core';
import { FakeScheduler } from '@m2mhub/core/testing';
import { createMemoryStore, type Store } from '@m2mhub/store';
import { ClusterNode, PooledRandom } from '../src/index';

const timings = { heartbeatMs: 1000, nodeTimeoutMs: 3000, claimTtlMs: 10_000 };
const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function node(store: Store, sched: FakeScheduler, nodeId: string, owners: Record<string, string> = {}): ClusterNode {
  return new ClusterNode({
    nodeId,
    kv: store.kv('lwm2m.nodes'),
    claims: store.queue('lwm2m.claims', { maxLength: 1 }),
    ownerOf: async (ep) => owners[ep],
    timings,
    scheduler: sched,
    logger: silentLogger,
  });
}

async function advance(sched: FakeScheduler, ms: number, step = 250): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    sched.advance(step);
    await flush();
  }
}

describe('cluster node (fake clock)', () => {
  it('a node beating every heartbeat stays alive; one that stops beating is gone after the node timeout, not before', async () => {
    const sched = new FakeScheduler();
    const store = createMemoryStore();
    await store.open();
    const a = node(store, sched, 'a');
    const b = node(store, sched, 'b');
    await a.start();
    await b.start();
    await advance(sched, 10_000);
    assert.equal(await b.alive('a'), true, 'a keeps beating');
    // a crashes: no clean stop, its heartbeat stays and ages.
    (a as unknown as { stopped: boolean }).stopped = true;
    await advance(sched, 2500);
    assert.equal(await b.alive('a'), true, 'within the timeout');
    await advance(sched, 2000);
    assert.equal(await b.alive('a'), false, 'no heartbeat for longer than nodeTimeoutMs');
    assert.equal(await b.alive('never-seen'), false);
    await b.stop();
  });

  it('a clean stop removes the heartbeat: gone as soon as the other node reads it again (at most a second later)', async () => {
    const sched = new FakeScheduler();
    const store = createMemoryStore();
    await store.open();
    const a = node(store, sched, 'a');
    const b = node(store, sched, 'b');
    await a.start();
    await b.start();
    assert.equal(await b.alive('a'), true);
    await a.stop();
    assert.equal(await b.alive('a'), true, 'the read of a moment ago is reused');
    await advance(sched, 1250);
    assert.equal(await b.alive('a'), false);
    await b.stop();
  });

  it('a claim is won by exactly one node, and can be won again after claimTtlMs', async () => {
    const sched = new FakeScheduler();
    const store = createMemoryStore();
    await store.open();
    const nodes = ['a', 'b', 'c'].map((n) => node(store, sched, n));
    for (const n of nodes) await n.start();
    const won = await Promise.all(nodes.map((n) => n.claim('dev b1:42')));
    assert.equal(won.filter(Boolean).length, 1);
    assert.equal((await Promise.all(nodes.map((n) => n.claim('dev b1:42')))).filter(Boolean).length, 0, 'still held');
    assert.equal(await nodes[1]!.claim('dev b1:43'), true, 'another message is another claim');
    await advance(sched, 10_500, 500);
    assert.equal((await Promise.all(nodes.map((n) => n.claim('dev b1:42')))).filter(Boolean).length, 1, 'released after its lifetime');
    for (const n of nodes) await n.stop();
    assert.deepEqual(await store.queue('lwm2m.claims').keys(), ['dev b1:42'], 'a stop leaves the claim it still held to the sweep');
    // A node starting later sweeps claims older than their lifetime.
    await advance(sched, 11_000, 1000);
    const late = node(store, sched, 'late');
    await late.start();
    assert.deepEqual(await store.queue('lwm2m.claims').keys(), []);
    await late.stop();
  });

  it('PooledRandom: bytes come from the source in pools, each call a fresh copy', () => {
    let calls = 0;
    const source = {
      ...systemRandom,
      bytes: (n: number) => {
        calls++;
        return systemRandom.bytes(n);
      },
    };
    const r = new PooledRandom(source, 64);
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) seen.add(Buffer.from(r.bytes(8)).toString('hex'));
    assert.equal(seen.size, 16);
    assert.equal(calls, 2, '16 tokens of 8 bytes from two pools of 64');
    const t = r.bytes(8);
    t.fill(0);
    assert.notDeepEqual(r.bytes(8), t);
    r.bytes(100);
    assert.equal(calls, 4, 'a request larger than a quarter pool goes to the source');
  });
});
