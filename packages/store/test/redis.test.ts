/** The conformance suite against a real redis-server started on a free port by this test. */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before } from 'node:test';
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
    cleanup: async () => {},
  };
});
