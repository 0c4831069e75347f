/** cluster.redis.url: Aedes persistence in Redis (aedes-persistence-redis) against a redis-server this test starts. */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { type EventEmitter, once as onceEmitter } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { createBroker, redisOptionsFromUrl } from '../src/index';

const once = (e: unknown, name: string) => onceEmitter(e as EventEmitter, name);
let server: ChildProcess | undefined;
let url = '';

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
  url = `redis://127.0.0.1:${port}/0`;
});
after(() => {
  server?.kill('SIGKILL');
});

describe('broker with Redis persistence', () => {
  it('redis URLs map to ioredis options; secrets stay out of the description', () => {
    assert.deepEqual(redisOptionsFromUrl('redis://u:p%40ss@h:7000/3'), {
      host: 'h',
      port: 7000,
      username: 'u',
      password: 'p@ss',
      db: 3,
      maxRetriesPerRequest: 3,
      connectTimeout: 5000,
    });
    assert.throws(() => redisOptionsFromUrl('http://x'));
  });

  it('retained messages and a persistent session survive a broker restart on the same Redis', async () => {
    const mk = () =>
      createBroker({ listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: '127.0.0.1' }], persistence: { kind: 'redis', url }, sysIntervalMs: 0 });
    let broker = await mk();
    await broker.listen();
    let port = broker.ports()['mqtt:tcp'];
    const c1 = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'redis-durable', clean: false, reconnectPeriod: 0 });
    await once(c1, 'connect');
    await c1.subscribeAsync('r/#', { qos: 1 });
    await c1.endAsync();
    await broker.publish('r/retained', 'kept', { qos: 1, retain: true });
    await broker.publish('r/queued', 'waiting', { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    await broker.stop();

    broker = await mk();
    await broker.listen();
    port = broker.ports()['mqtt:tcp'];
    try {
      const got: string[] = [];
      const c2 = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'redis-durable', clean: false, reconnectPeriod: 0 });
      c2.on('message', (t, p) => got.push(`${t}=${p}`));
      const [connack] = (await once(c2, 'connect')) as [{ sessionPresent: boolean }];
      assert.equal(connack.sessionPresent, true);
      const until = Date.now() + 5000;
      while (got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got.sort(), ['r/queued=waiting', 'r/retained=kept']);
      await c2.endAsync();
    } finally {
      await broker.stop();
    }
  });
});
