/**
 * The `m2mhub` process against real clients over 127.0.0.1: mosquitto_pub/mosquitto_sub,
 * MQTT.js over WebSocket, raw sockets; the REST status endpoint; SIGTERM.
 */
import assert from 'node:assert/strict';
import { type EventEmitter, once as onceEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLevelStore } from '@m2mhub/store';
import mqtt from 'mqtt';
import { background, HOST, type HubProcess, portEnv, requireTool, run, spawnHub, tempDir } from './helpers';

const once = (e: unknown, name: string) => onceEmitter(e as EventEmitter, name);

describe('m2mhub process: MQTT with real clients', () => {
  let hub: HubProcess;
  let dir: string;
  let port: string;
  before(async () => {
    requireTool('mosquitto_pub');
    requireTool('mosquitto_sub');
    dir = tempDir();
    // Ports via env, one limit via a flag (flags > env).
    hub = await spawnHub({
      dataDir: dir,
      // A config user (auth stays off) gives the store something to flush on SIGTERM.
      env: { ...(await portEnv()), M2MHUB_MQTT__LIMITS__MAX_PACKET_SIZE: '999999', M2MHUB_MQTT__AUTH__USERS: '[{"username":"u1","password":"p1"}]' },
      args: ['--mqtt.limits.max_packet_size', '4096'],
    });
    port = String(hub.ports['mqtt:tcp']);
  });
  after(async () => {
    await hub?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /api/v5/status answers 200 with every listener up', async () => {
    const r = await fetch(`http://${HOST}:${hub.ports['api:http']}/api/v5/status`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { status: string; listeners: Array<{ name: string; up: boolean; port: number }> };
    assert.equal(body.status, 'running');
    const byName = Object.fromEntries(body.listeners.map((l) => [l.name, l]));
    for (const n of ['mqtt:tcp', 'mqtt:ws', 'api:http']) assert.equal(byName[n]?.up, true, n);
    assert.equal(byName['mqtt:tcp']!.port, hub.ports['mqtt:tcp']);
  });

  it('MQTT 3.1.1 §4.3: mosquitto_pub to mosquitto_sub at QoS 0, 1 and 2', async () => {
    const sub = background('mosquitto_sub', ['-h', HOST, '-p', port, '-q', '2', '-t', 'e2e/qos/#', '-v', '-d']);
    try {
      await waitForSuback(sub);
      for (const q of ['0', '1', '2']) {
        const r = await run('mosquitto_pub', ['-h', HOST, '-p', port, '-q', q, '-t', `e2e/qos/${q}`, '-m', `m${q}`]);
        assert.equal(r.code, 0, r.stderr);
      }
      const got = await waitMessages(sub, 3);
      assert.deepEqual(got.sort(), ['e2e/qos/0 m0', 'e2e/qos/1 m1', 'e2e/qos/2 m2']);
    } finally {
      sub.stop();
    }
  });

  it('MQTT 3.1.1 §3.3.1.3: a retained message reaches a late subscriber', async () => {
    const r = await run('mosquitto_pub', ['-h', HOST, '-p', port, '-q', '1', '-r', '-t', 'e2e/retained', '-m', 'kept']);
    assert.equal(r.code, 0, r.stderr);
    const s = await run('mosquitto_sub', ['-h', HOST, '-p', port, '-t', 'e2e/retained', '-C', '1', '-v', '-W', '5']);
    assert.equal(s.stdout.trim(), 'e2e/retained kept');
  });

  it('MQTT 3.1.1 §3.1.2.5: the will is published when a client socket drops', async () => {
    const sub = background('mosquitto_sub', ['-h', HOST, '-p', port, '-t', 'e2e/will', '-v', '-d']);
    try {
      await waitForSuback(sub);
      const c = mqtt.connect(`mqtt://${HOST}:${port}`, { reconnectPeriod: 0, will: { topic: 'e2e/will', payload: Buffer.from('gone'), qos: 1, retain: false } });
      await once(c, 'connect');
      c.stream.destroy(); // no DISCONNECT: an abnormal close
      assert.deepEqual(await waitMessages(sub, 1), ['e2e/will gone']);
      c.end(true);
    } finally {
      sub.stop();
    }
  });

  it('MQTT.js over ws://127.0.0.1:<port>/mqtt talks to a mosquitto client on TCP', async () => {
    const sub = background('mosquitto_sub', ['-h', HOST, '-p', port, '-t', 'e2e/ws/#', '-v', '-d']);
    try {
      await waitForSuback(sub);
      const c = mqtt.connect(`ws://${HOST}:${hub.ports['mqtt:ws']}/mqtt`, { reconnectPeriod: 0 });
      await once(c, 'connect');
      await c.subscribeAsync('e2e/back', { qos: 1 });
      await c.publishAsync('e2e/ws/x', 'from-browser', { qos: 1 });
      assert.deepEqual(await waitMessages(sub, 1), ['e2e/ws/x from-browser']);
      const msg = once(c, 'message');
      await run('mosquitto_pub', ['-h', HOST, '-p', port, '-q', '1', '-t', 'e2e/back', '-m', 'to-browser']);
      const [topic, payload] = (await msg) as [string, Buffer];
      assert.equal(`${topic} ${payload}`, 'e2e/back to-browser');
      await c.endAsync();
    } finally {
      sub.stop();
    }
  });

  it('a packet over mqtt.limits.max_packet_size (set by flag over env) disconnects that client; others keep working', async () => {
    const sub = background('mosquitto_sub', ['-h', HOST, '-p', port, '-t', 'e2e/size/#', '-v', '-d']);
    try {
      await waitForSuback(sub);
      const big = 'x'.repeat(8000);
      const r = await run('mosquitto_pub', ['-h', HOST, '-p', port, '-q', '1', '-t', 'e2e/size/big', '-m', big]);
      assert.notEqual(r.code, 0, 'the oversize publish must not be acknowledged');
      const ok = await run('mosquitto_pub', ['-h', HOST, '-p', port, '-t', 'e2e/size/ok', '-m', 'small']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(await waitMessages(sub, 1), ['e2e/size/ok small']);
      assert.ok(hub.logs.some((l) => l.includes('M2M') || l.includes('over the limit')), 'the drop is logged with the reason');
    } finally {
      sub.stop();
    }
  });

  it('garbage bytes close only that connection; the hub keeps serving', async () => {
    const sock = netConnect(Number(port), HOST);
    await once(sock, 'connect');
    sock.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02]));
    await once(sock, 'close');
    const r = await run('mosquitto_pub', ['-h', HOST, '-p', port, '-t', 'e2e/alive', '-m', 'yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(hub.proc.exitCode, null);
  });

  it('SIGTERM: exits with code 0 within 5 s after closing listeners and flushing the store', async () => {
    const res = await hub.kill('SIGTERM');
    assert.equal(res.code, 0, hub.stderr());
    assert.ok(res.ms < 5000, `took ${res.ms} ms`);
    assert.ok(hub.logs.some((l) => l.includes('"hub stopped"')));
    // The store was closed cleanly (its lock is free) and holds what the hub wrote.
    const store = createLevelStore(join(dir, 'store'));
    await store.open();
    try {
      const u = await store.kv('mqtt.users').get<{ passwordHash: string }>('u1');
      assert.match(u?.passwordHash ?? '', /^scrypt\$/);
    } finally {
      await store.close();
    }
  });
});

async function waitForSuback(sub: ReturnType<typeof background>): Promise<void> {
  const until = Date.now() + 10_000;
  while (!sub.lines.some((l) => l.includes('SUBACK'))) {
    if (Date.now() > until) throw new Error(`no SUBACK: ${sub.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Message lines of a `mosquitto_sub -v -d` (debug lines start with "Client "). */
async function waitMessages(sub: ReturnType<typeof background>, n: number): Promise<string[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const msgs = sub.lines.filter((l) => !l.startsWith('Client ') && !l.startsWith('Subscribed'));
    if (msgs.length >= n) return msgs;
    if (Date.now() > until) throw new Error(`expected ${n} messages: ${sub.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
