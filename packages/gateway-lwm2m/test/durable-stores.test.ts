import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueuedRequest, Registration } from '@m2mhub/lwm2m';
import { createMemoryStore } from '@m2mhub/store';
import { KvObservationStore, KvRegistrationStore, KvRequestQueueStore } from '../src/index';

const reg = (id: string, endpoint: string): Registration => ({
  id,
  endpoint,
  lifetime: 300,
  lwm2mVersion: '1.1',
  binding: 'U',
  queueMode: false,
  alternatePath: '/',
  objects: [{ id: 3, instances: [0] }],
  address: { address: '127.0.0.1', port: 5000, family: 'IPv4' },
  peerKey: '127.0.0.1:5000',
  transport: 'udp',
  listener: 'udp',
  registeredAt: 1,
  lastUpdate: 1,
  expiresAt: 300_001,
});

describe('LwM2M server stores on @m2mhub/store (DESIGN.md §5)', () => {
  it('registrations: replace by endpoint, lookups, removal, and what a new instance (a restart) reads back', async () => {
    const store = createMemoryStore();
    await store.open();
    const a = new KvRegistrationStore(store.kv('t'));
    assert.equal(await a.put(reg('r1', 'ep/with/slash')), undefined);
    await a.put(reg('r2', 'ep'));
    const replaced = await a.put(reg('r3', 'ep'));
    assert.equal(replaced?.id, 'r2');
    assert.equal((await a.getByEndpoint('ep'))?.id, 'r3');
    assert.equal(await a.get('r2'), undefined);
    assert.equal(await a.count(), 2);
    const restarted = new KvRegistrationStore(store.kv('t'), 1);
    assert.equal((await restarted.getByEndpoint('ep/with/slash'))?.id, 'r1');
    assert.equal((await restarted.getByEndpoint('ep'))?.id, 'r3');
    assert.deepEqual((await restarted.remove('r1'))?.endpoint, 'ep/with/slash');
    assert.equal(await a.getByEndpoint('ep/with'), undefined);
    const ids: string[] = [];
    for await (const r of restarted.list()) ids.push(r.id);
    assert.deepEqual(ids, ['r3']);
  });

  it('observations and queued requests survive a new instance; queue order, bound and removal by id', async () => {
    const store = createMemoryStore();
    await store.open();
    const kv = store.kv('t');
    const obs = new KvObservationStore(kv);
    await obs.put({ id: 'aa', registrationId: 'r1', endpoint: 'e', paths: ['/3/0'], composite: false, createdAt: 1 });
    await obs.put({ id: 'bb', registrationId: 'r2', endpoint: 'f', paths: ['/3/0/9'], composite: false, createdAt: 1 });
    assert.deepEqual((await new KvObservationStore(kv).removeByRegistration('r1')).map((o) => o.id), ['aa']);
    assert.equal((await obs.get('bb'))?.endpoint, 'f');

    const q = new KvRequestQueueStore(kv);
    const item = (id: string, at: number): QueuedRequest => ({ id, endpoint: 'e/1', request: { kind: 'read', path: '/3/0/0' }, queuedAt: at, expiresAt: at + 1000 });
    assert.equal(await q.push(item('x', 20), 2), true);
    assert.equal(await q.push(item('y', 10), 2), true);
    assert.equal(await q.push(item('z', 30), 2), false);
    const again = new KvRequestQueueStore(kv);
    assert.deepEqual((await again.peek('e/1')).map((i) => i.id), ['y', 'x']);
    assert.deepEqual(await again.endpoints(), ['e/1']);
    assert.equal(await again.remove('e/1', 'y'), true);
    assert.deepEqual((await again.clear('e/1')).map((i) => i.id), ['x']);
    assert.deepEqual(await again.endpoints(), []);
  });
});
