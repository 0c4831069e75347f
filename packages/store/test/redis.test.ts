/** The conformance suite against a real redis-server started on a free port by this test. */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { storeConformance } from '../src/conformance';
import { createRedisStore } from '../src/index';

let server: ChildProcess | undefined;
let url = '';
let n = 0;

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  try {
    execFileSync('sh', ['-c', 'command -v redis-server'], { stdio: 'pipe' });
  } catch {
    assert.fail('redis-server is not installed (Debian: redis-server; .ci/run installs it)');
  }
  const port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    server!.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  url = `redis://127.0.0.1:${port}`;
});

after(() => {
  server?.kill('SIGKILL');
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
