/**
 * The shared conformance suite every `Store` backend must pass (as aedes-persistence's
 * abstract.js does for Aedes). Call it from a test file with a factory:
 *
 *   storeConformance('level', async () => { ...; return { store, reopen, cleanup } });
 *
 * `reopen`, when given, closes nothing itself: the suite closes the store and calls it to
 * get a fresh instance on the same data, to check durability.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store } from './api';
import { StoreErrors } from './errors';

export interface ConformanceSubject {
  store: Store;
  /** Opens a new Store over the same durable data (after the suite closed `store`). */
  reopen?: () => Promise<Store>;
  /**
   * Another Store over the same data, open at the same time (backends several processes
   * share, such as Redis). When given, the suite checks the two instances together.
   */
  shared?: () => Promise<Store>;
  cleanup(): Promise<void>;
}

export type ConformanceFactory = (limits: { queueMaxLength?: number; maxValueBytes?: number; listLimit?: number }) => Promise<ConformanceSubject>;

async function withStore(factory: ConformanceFactory, fn: (s: ConformanceSubject) => Promise<void>, limits = {}): Promise<void> {
  const subject = await factory(limits);
  await subject.store.open();
  try {
    await fn(subject);
  } finally {
    await subject.store.close().catch(() => {});
    await subject.cleanup();
  }
}

export function storeConformance(name: string, factory: ConformanceFactory): void {
  describe(`store conformance: ${name}`, () => {
    it('kv: put/get round-trips JSON values and get of a missing key is undefined', () =>
      withStore(factory, async ({ store }) => {
        const kv = store.kv('things');
        const value = { a: 1, b: [true, null, 'x'], c: { d: 1.5 }, u: 'é☃𝄞' };
        await kv.put('k1', value);
        assert.deepEqual(await kv.get('k1'), value);
        assert.equal(await kv.get('missing'), undefined);
        await kv.put('k1', 42);
        assert.equal(await kv.get('k1'), 42);
        await kv.put('zero', 0);
        await kv.put('null', null);
        assert.equal(await kv.get('zero'), 0);
        assert.equal(await kv.get('null'), null);
      }));

    it('kv: namespaces are isolated', () =>
      withStore(factory, async ({ store }) => {
        await store.kv('a').put('k', 1);
        await store.kv('b').put('k', 2);
        assert.equal(await store.kv('a').get('k'), 1);
        assert.equal(await store.kv('b').get('k'), 2);
        assert.deepEqual(await store.kv('ab').list(), []);
        assert.equal((await store.kv('a').list()).length, 1);
      }));

    it('kv: delete reports whether the key existed', () =>
      withStore(factory, async ({ store }) => {
        const kv = store.kv('del');
        await kv.put('x', 'y');
        assert.equal(await kv.delete('x'), true);
        assert.equal(await kv.delete('x'), false);
        assert.equal(await kv.get('x'), undefined);
      }));

    it('kv: list by prefix in UTF-8 byte order, with limit and after for paging', () =>
      withStore(factory, async ({ store }) => {
        const kv = store.kv('list');
        const keys = ['dev/b', 'dev/a', 'dev/c', 'devx', 'other', 'dev/é', 'dev/𝄞', 'dev/\uffee'];
        for (const k of keys) await kv.put(k, k.length);
        const all = await kv.list({ prefix: 'dev/' });
        assert.deepEqual(
          all.map((e) => e.key),
          ['dev/a', 'dev/b', 'dev/c', 'dev/é', 'dev/\uffee', 'dev/𝄞'],
        );
        const page1 = await kv.list({ prefix: 'dev/', limit: 2 });
        assert.deepEqual(page1.map((e) => e.key), ['dev/a', 'dev/b']);
        const page2 = await kv.list({ prefix: 'dev/', limit: 2, after: 'dev/b' });
        assert.deepEqual(page2.map((e) => e.key), ['dev/c', 'dev/é']);
        assert.equal(page1[0]!.value, 5);
        assert.equal((await kv.list()).length, keys.length);
        assert.deepEqual(await kv.list({ prefix: 'nope' }), []);
        assert.deepEqual(await kv.list({ limit: 0 }), []);
      }));

    it('kv: list never returns more than the configured listLimit', () =>
      withStore(
        factory,
        async ({ store }) => {
          const kv = store.kv('bounded');
          for (let i = 0; i < 7; i++) await kv.put(`k${i}`, i);
          assert.equal((await kv.list()).length, 5);
          assert.equal((await kv.list({ limit: 100 })).length, 5);
        },
        { listLimit: 5 },
      ));

    it('kv: batch applies puts and deletes together', () =>
      withStore(factory, async ({ store }) => {
        const kv = store.kv('batch');
        await kv.put('old', 1);
        await kv.batch([
          { type: 'put', key: 'a', value: 'A' },
          { type: 'put', key: 'b', value: 'B' },
          { type: 'del', key: 'old' },
        ]);
        assert.deepEqual(
          (await kv.list()).map((e) => [e.key, e.value]),
          [
            ['a', 'A'],
            ['b', 'B'],
          ],
        );
      }));

    it('kv: an invalid op makes the whole batch fail with nothing applied', () =>
      withStore(factory, async ({ store }) => {
        const kv = store.kv('batch2');
        await assert.rejects(
          kv.batch([
            { type: 'put', key: 'a', value: 1 },
            { type: 'put', key: '', value: 2 },
          ]),
          (e) => StoreErrors.invalidKey.is(e),
        );
        assert.equal(await kv.get('a'), undefined);
      }));

    it('kv: bad keys, namespaces and values are refused with typed errors', () =>
      withStore(
        factory,
        async ({ store }) => {
          const kv = store.kv('bad');
          await assert.rejects(kv.put('', 1), (e) => StoreErrors.invalidKey.is(e));
          await assert.rejects(kv.put('a\u0000b', 1), (e) => StoreErrors.invalidKey.is(e));
          await assert.rejects(kv.put('x'.repeat(5000), 1), (e) => StoreErrors.invalidKey.is(e));
          await assert.rejects(kv.put('k', undefined), (e) => StoreErrors.invalidValue.is(e));
          await assert.rejects(kv.put('k', 'v'.repeat(200)), (e) => StoreErrors.valueTooLarge.is(e));
          const cyclic: Record<string, unknown> = {};
          cyclic.self = cyclic;
          await assert.rejects(kv.put('k', cyclic), (e) => StoreErrors.invalidValue.is(e));
          assert.throws(() => store.kv('Bad NS'), (e) => StoreErrors.invalidKey.is(e));
          assert.throws(() => store.kv(''), (e) => StoreErrors.invalidKey.is(e));
        },
        { maxValueBytes: 100 },
      ));

    it('queue: FIFO push/peek/shift/length', () =>
      withStore(factory, async ({ store }) => {
        const q = store.queue<{ n: number }>('cmds');
        assert.equal(await q.length('ep1'), 0);
        assert.equal(await q.peek('ep1'), undefined);
        assert.equal(await q.shift('ep1'), undefined);
        assert.equal(await q.push('ep1', { n: 1 }), 1);
        assert.equal(await q.push('ep1', { n: 2 }), 2);
        await q.push('ep2', { n: 9 });
        assert.deepEqual(await q.peek('ep1'), { n: 1 });
        assert.equal(await q.length('ep1'), 2);
        assert.deepEqual(await q.shift('ep1'), { n: 1 });
        assert.deepEqual(await q.shift('ep1'), { n: 2 });
        assert.equal(await q.shift('ep1'), undefined);
        assert.equal(await q.length('ep2'), 1);
      }));

    it('queue: push on a full queue rejects with M2M_STORE_QUEUE_FULL and changes nothing', () =>
      withStore(
        factory,
        async ({ store }) => {
          const q = store.queue<number>('full');
          for (let i = 0; i < 3; i++) await q.push('k', i);
          await assert.rejects(q.push('k', 3), (e: unknown) => StoreErrors.queueFull.is(e) && e.code === 'M2M_STORE_QUEUE_FULL');
          assert.equal(await q.length('k'), 3);
          assert.equal(await store.queue('full', { maxLength: 5 }).push('k', 3), 4);
          await assert.rejects(q.push('k', 9, { maxLength: 4 }), (e) => StoreErrors.queueFull.is(e));
          assert.deepEqual(await q.drain('k'), [0, 1, 2, 3]);
        },
        { queueMaxLength: 3 },
      ));

    it('queue: drain returns oldest first, with max, and clear empties', () =>
      withStore(factory, async ({ store }) => {
        const q = store.queue<string>('drain');
        for (const s of ['a', 'b', 'c', 'd']) await q.push('k', s);
        assert.deepEqual(await q.drain('k', 3), ['a', 'b', 'c']);
        await q.push('k', 'e');
        assert.deepEqual(await q.drain('k'), ['d', 'e']);
        assert.deepEqual(await q.drain('k'), []);
        await q.push('k', 'f');
        await q.clear('k');
        assert.equal(await q.length('k'), 0);
        await q.push('k', 'g');
        assert.deepEqual(await q.drain('k'), ['g']);
      }));

    it('queue: keys lists non-empty queues only', () =>
      withStore(factory, async ({ store }) => {
        const q = store.queue<number>('keys');
        await q.push('b', 1);
        await q.push('a', 1);
        await q.push('c', 1);
        await q.shift('c');
        assert.deepEqual(await q.keys(), ['a', 'b']);
        assert.deepEqual(await store.queue('other').keys(), []);
      }));

    it('queue: concurrent pushes on one key keep every item and the bound', () =>
      withStore(
        factory,
        async ({ store }) => {
          const q = store.queue<number>('conc');
          const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => q.push('k', i)));
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 20);
          assert.equal(results.filter((r) => r.status === 'rejected').length, 10);
          assert.deepEqual(
            await q.drain('k'),
            Array.from({ length: 20 }, (_, i) => i),
          );
        },
        { queueMaxLength: 20 },
      ));

    it('store: operations after close reject with M2M_STORE_CLOSED', () =>
      withStore(factory, async ({ store }) => {
        await store.kv('x').put('k', 1);
        await store.flush();
        await store.close();
        await assert.rejects(store.kv('x').get('k'), (e) => StoreErrors.closed.is(e));
        await assert.rejects(store.queue('x').push('k', 1), (e) => StoreErrors.closed.is(e));
      }));

    it('store: data survives close and reopen (durable backends)', async (t) => {
      const subject = await factory({});
      if (!subject.reopen) {
        await subject.cleanup();
        t.diagnostic(`${name} is volatile: no durability check`);
        return;
      }
      await subject.store.open();
      await subject.store.kv('dur').put('k', { v: 1 });
      await subject.store.queue('dur').push('ep', 'first');
      await subject.store.queue('dur').push('ep', 'second');
      await subject.store.queue('dur').shift('ep');
      await subject.store.close();
      const again = await subject.reopen();
      await again.open();
      try {
        assert.deepEqual(await again.kv('dur').get('k'), { v: 1 });
        assert.deepEqual(await again.queue('dur').drain('ep'), ['second']);
      } finally {
        await again.close();
        await subject.cleanup();
      }
    });
    it('shared: two instances on the same data see each other and keep queue bounds under concurrency', async (t) => {
      const subject = await factory({ queueMaxLength: 20 });
      if (!subject.shared) {
        await subject.cleanup();
        t.diagnostic(`${name} is single-process: no shared-instance check`);
        return;
      }
      const a = subject.store;
      const b = await subject.shared();
      await a.open();
      await b.open();
      try {
        await a.kv('shared').put('k', { from: 'a' });
        assert.deepEqual(await b.kv('shared').get('k'), { from: 'a' });
        assert.equal(await b.kv('shared').delete('k'), true);
        assert.equal(await a.kv('shared').delete('k'), false);

        // 30 pushes from two instances at once on a queue bounded to 20: exactly 20 land.
        const qa = a.queue<string>('shq');
        const qb = b.queue<string>('shq');
        const pushes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => (i % 2 ? qa : qb).push('ep', `i${i}`)));
        assert.equal(pushes.filter((r) => r.status === 'fulfilled').length, 20);
        assert.ok(pushes.filter((r) => r.status === 'rejected').every((r) => StoreErrors.queueFull.is((r as PromiseRejectedResult).reason)));
        assert.equal(await qa.length('ep'), 20);
        // Each instance's pushes keep their own order in the shared FIFO.
        assert.equal(await qb.peek('ep'), await qa.peek('ep'));

        // Concurrent shifts from both: every item exactly once, none lost.
        const shifted = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? qa : qb).shift('ep')));
        const got = shifted.filter((x): x is string => x !== undefined);
        assert.equal(got.length, 20);
        assert.equal(new Set(got).size, 20);
        assert.deepEqual(await qa.keys(), []);
      } finally {
        await b.close().catch(() => {});
        await a.close().catch(() => {});
        await subject.cleanup();
      }
    });
  });
}
