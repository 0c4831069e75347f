/**
 * The `m2mhub` process configured by a JSON file: MQTT users, ACL rules and TLS/WSS with a
 * certificate made by `openssl req -x509`; checked with mosquitto clients and MQTT.js.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { type EventEmitter, once as onceEmitter } from 'node:events';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { background, HOST, type HubProcess, portEnv, requireTool, run, sleep, spawnHub, tempDir } from './helpers';

const once = (e: unknown, name: string) => onceEmitter(e as EventEmitter, name);

describe('m2mhub process: authentication, ACL and TLS from a config file', () => {
  let hub: HubProcess;
  let dir: string;
  let port: string;
  let cert: string;
  before(async () => {
    for (const t of ['openssl', 'mosquitto_pub', 'mosquitto_sub']) requireTool(t);
    dir = tempDir();
    cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'pipe' });
    const file = join(dir, 'm2mhub.json');
    writeFileSync(
      file,
      JSON.stringify({
        mqtt: {
          tls: { cert, key },
          auth: {
            enabled: true,
            users: [
              { username: 'alice', password: 'wonderland' },
              { username: 'bob', password: 'builder' },
            ],
          },
          acl: {
            rules: [
              // biome-ignore lint/suspicious/noTemplateCurlyInString: EMQX ACL placeholder
              { permission: 'allow', action: 'all', topics: ['users/${username}/#'] },
              { permission: 'allow', action: 'subscribe', topics: ['news/#'] },
              { permission: 'allow', action: 'publish', topics: ['news/#'], username: 'alice' },
            ],
            no_match: 'deny',
          },
        },
      }),
    );
    hub = await spawnHub({ dataDir: dir, env: await portEnv(), args: ['--config', file] });
    port = String(hub.ports['mqtt:tcp']);
  });
  after(async () => {
    await hub?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('passwords are stored as scrypt hashes, never in clear, and never logged', () => {
    assert.ok(!hub.logs.join('\n').includes('wonderland'));
    const storeDir = join(dir, 'store');
    const files = readdirSync(storeDir).filter((f) => f.endsWith('.log') || f.endsWith('.ldb'));
    assert.ok(files.length > 0);
    for (const f of files) assert.ok(!readFileSync(join(storeDir, f)).includes('wonderland'), f);
  });

  it('MQTT 3.1.1 §3.2.2.3: a wrong password is refused with CONNACK 4 or 5 (mosquitto_pub and MQTT.js)', async () => {
    const r = await run('mosquitto_pub', ['-h', HOST, '-p', port, '-u', 'alice', '-P', 'wrong', '-t', 'users/alice/x', '-m', 'x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refused|not authori[sz]ed|bad user name or password/i);
    const c = mqtt.connect(`mqtt://${HOST}:${port}`, { reconnectPeriod: 0, username: 'alice', password: 'wrong' });
    const [err] = (await once(c, 'error')) as [Error & { code?: number }];
    assert.ok(err.code === 4 || err.code === 5, `code ${err.code}`);
    c.end(true);
    const anon = mqtt.connect(`mqtt://${HOST}:${port}`, { reconnectPeriod: 0 });
    const [err2] = (await once(anon, 'error')) as [Error & { code?: number }];
    assert.equal(err2.code, 5, 'anonymous clients are not authorized when auth is on');
    anon.end(true);
  });

  it('ACL: a denied subscription gets 0x80 in SUBACK and a denied publish is dropped', async () => {
    const c = mqtt.connect(`mqtt://${HOST}:${port}`, { reconnectPeriod: 0, username: 'bob', password: 'builder' });
    await once(c, 'connect');
    const suback = new Promise<number[]>((resolve) =>
      c.on('packetreceive', (p) => {
        if (p.cmd === 'suback') resolve(p.granted as number[]);
      }),
    );
    c.subscribe({ 'users/alice/#': { qos: 1 }, 'users/bob/#': { qos: 1 }, 'news/#': { qos: 1 } }, () => {});
    assert.deepEqual(await suback, [0x80, 1, 1]);
    const got: string[] = [];
    c.on('message', (t) => got.push(t));
    // bob may not publish to news/#; alice may. Both with QoS 1: bob's is acknowledged, then dropped.
    await c.publishAsync('news/fake', 'spoof', { qos: 1 });
    const a = await run('mosquitto_pub', ['-h', HOST, '-p', port, '-u', 'alice', '-P', 'wonderland', '-q', '1', '-t', 'news/real', '-m', 'x']);
    assert.equal(a.code, 0, a.stderr);
    const until = Date.now() + 5000;
    while (!got.includes('news/real') && Date.now() < until) await sleep(20);
    assert.deepEqual(got, ['news/real']);
    await c.endAsync();
  });

  it('MQTT over TLS: mosquitto_sub/pub with --cafile on the openssl certificate', async () => {
    const tls = String(hub.ports['mqtt:tls']);
    const auth = ['-u', 'alice', '-P', 'wonderland', '--cafile', cert];
    const sub = background('mosquitto_sub', ['-h', HOST, '-p', tls, ...auth, '-t', 'users/alice/tls', '-v', '-d']);
    try {
      const until = Date.now() + 10_000;
      while (!sub.lines.some((l) => l.includes('SUBACK')) && Date.now() < until) await sleep(20);
      const r = await run('mosquitto_pub', ['-h', HOST, '-p', tls, ...auth, '-q', '1', '-t', 'users/alice/tls', '-m', 'secure']);
      assert.equal(r.code, 0, r.stderr);
      const until2 = Date.now() + 10_000;
      while (!sub.lines.includes('users/alice/tls secure') && Date.now() < until2) await sleep(20);
      assert.ok(sub.lines.includes('users/alice/tls secure'), sub.lines.join('\n'));
    } finally {
      sub.stop();
    }
  });

  it('MQTT over secure WebSocket: MQTT.js wss:// trusting the certificate', async () => {
    const c = mqtt.connect(`wss://${HOST}:${hub.ports['mqtt:wss']}/mqtt`, {
      reconnectPeriod: 0,
      username: 'alice',
      password: 'wonderland',
      ca: readFileSync(cert),
    });
    await once(c, 'connect');
    await c.subscribeAsync('users/alice/wss', { qos: 1 });
    const msg = once(c, 'message');
    await c.publishAsync('users/alice/wss', 'ok', { qos: 1 });
    assert.equal(String(((await msg) as [string, Buffer])[1]), 'ok');
    await c.endAsync();
  });

  it('status lists the TLS and WSS listeners up', async () => {
    const r = await fetch(`http://${HOST}:${hub.ports['api:http']}/api/v5/status`);
    const body = (await r.json()) as { listeners: Array<{ name: string; up: boolean }> };
    assert.deepEqual(
      body.listeners.filter((l) => l.name.startsWith('mqtt:')).map((l) => `${l.name}=${l.up}`),
      ['mqtt:tcp=true', 'mqtt:ws=true', 'mqtt:tls=true', 'mqtt:wss=true'],
    );
  });
});
