/** The conformance suite against a real redis-server started on a free port by this test. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startRedis } from '@m2mhub/core/testing';
import { storeConformance } from '../src/conformance';
import { createRedisStore } from '../src/index';

let redis: { url: string; stop(): void } | undefined;
let url = '';
let n = 0;

before(async () => {
  redis = await startRedis();
  url = redis.url;
});

after(() => {
  redis?.stop();
});

storeConformance('redis', async (limits) => {
  // A fresh key prefix per test keeps tests apart on one server.
  const keyPrefix = `t${++n}:`;
  return {
    store: createRedisStore(url, limits, { keyPrefix }),
    reopen: async () => createRedisStore(url, limits, { keyPrefix }),
    shared: async () => createRedisStore(url, limits, { keyPrefix }),
    cleanup: async () => {},
  };
});

describe('redis store shared by processes', () => {
  it('two processes pushing and shifting one queue at once: the bound holds and every item is taken exactly once', async () => {
    const keyPrefix = `mp${Date.now()}:`;
    const script = (tag: string) => `
      import { createRedisStore } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const s = createRedisStore(${JSON.stringify(url)}, { queueMaxLength: 150 }, { keyPrefix: ${JSON.stringify(keyPrefix)} });
      await s.open();
      const q = s.queue('mp');
      let pushed = 0;
      const taken = [];
      if (process.argv.includes('push')) {
        const r = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => q.push('ep', '${tag}' + i)));
        pushed = r.filter((x) => x.status === 'fulfilled').length;
      } else {
        for (;;) { const v = await q.shift('ep'); if (v === undefined) break; taken.push(v); }
      }
      await s.close();
      console.log(JSON.stringify({ pushed, taken }));
    `;
    const run = (tag: string, phase: 'push' | 'shift') =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(tag), phase], { encoding: 'utf8' }).then(
        (r) => JSON.parse(r.stdout) as { pushed: number; taken: string[] },
      );
    const [a, b] = await Promise.all([run('a', 'push'), run('b', 'push')]);
    assert.equal(a.pushed + b.pushed, 150, 'bound of 150 over 200 concurrent pushes');
    const [c, d] = await Promise.all([run('a', 'shift'), run('b', 'shift')]);
    const all = [...c.taken, ...d.taken];
    assert.equal(all.length, 150);
    assert.equal(new Set(all).size, 150);
  });
});
