import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { storeConformance } from '../src/conformance';
import { createLevelStore, createMemoryStore, StoreErrors } from '../src/index';

storeConformance('memory', async (limits) => ({ store: createMemoryStore(limits), cleanup: async () => {} }));

storeConformance('level', async (limits) => {
  const dir = mkdtempSync(join(tmpdir(), 'm2mhub-store-'));
  return {
    store: createLevelStore(dir, limits),
    reopen: async () => createLevelStore(dir, limits),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('level store', () => {
  it('a second process cannot open a locked data dir: typed error naming the location', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2mhub-store-'));
    const a = createLevelStore(dir);
    await a.open();
    try {
      await assert.rejects(createLevelStore(dir).open(), (e: unknown) => StoreErrors.openFailed.is(e) && (e as Error).message.includes(dir) && (e as Error).message.includes('another process'));
    } finally {
      await a.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes acknowledged before a SIGKILL are there after restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2mhub-store-'));
    const script = `
      import { createLevelStore } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const s = createLevelStore(${JSON.stringify(dir)});
      await s.open();
      await s.kv('k').put('a', 1);
      await s.queue('q').push('ep', 'x');
      process.kill(process.pid, 'SIGKILL');
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    const s = createLevelStore(dir);
    await s.open();
    try {
      assert.equal(await s.kv('k').get('a'), 1);
      assert.deepEqual(await s.queue('q').drain('ep'), ['x']);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
