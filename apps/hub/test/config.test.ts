/** Config loading (DESIGN.md §1): precedence, EMQX-style env names, one-line errors; start-up failures of the real process. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SeededRandom } from '@m2mhub/core/testing';
import { walkFields } from '../src/config/schema';
import { ConfigError, configReference, defaultConfig, hubSchema, loadConfig, startHub } from '../src/index';
import { adminAuth, HOST, portEnv, ROOT, runHubExpectingExit, TEST_ADMIN_PASSWORD, tempDir } from './helpers';

describe('config', () => {
  it('DESIGN.md §1: defaults are the documented ports', () => {
    const c = defaultConfig(hubSchema);
    assert.deepEqual(
      [c.mqtt.tcp.port, c.mqtt.tls.port, c.mqtt.ws.port, c.mqtt.wss.port, c.lwm2m.udp.port, c.lwm2m.dtls.port, c.api.port, c.data_dir],
      [1883, 8883, 8083, 8084, 5783, 5784, 18083, './data'],
    );
    assert.equal(c.mqtt.ws.path, '/mqtt');
    assert.equal(c.cluster.redis.url, undefined);
  });

  it('DESIGN.md §1: flags > env > file > defaults, env uses __ between levels', () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ mqtt: { tcp: { port: 1001, bind: '127.0.0.1' }, ws: { port: 1002 } }, api: { port: 1003 } }));
      const { config, origins } = loadConfig(hubSchema, {
        argv: ['--config', 'c.json', '--mqtt.tcp.port', '3001', '--mqtt.auth.enabled'],
        env: { M2MHUB_MQTT__TCP__PORT: '2001', M2MHUB_MQTT__WS__PORT: '2002', M2MHUB_DATA_DIR: '/var/lib/x', M2MHUB_ADMIN_PASSWORD: 'not-a-key' },
        cwd: dir,
      });
      assert.equal(config.mqtt.tcp.port, 3001);
      assert.equal(config.mqtt.ws.port, 2002);
      assert.equal(config.api.port, 1003);
      assert.equal(config.mqtt.tcp.bind, '127.0.0.1');
      assert.equal(config.data_dir, '/var/lib/x');
      assert.equal(config.mqtt.auth.enabled, true);
      assert.equal(config.lwm2m.udp.port, 5783);
      assert.equal(origins['mqtt.ws.port'], 'env M2MHUB_MQTT__WS__PORT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a .yaml config file works like JSON; bad YAML is one line', () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'c.yaml'), 'mqtt:\n  tcp:\n    port: 1999\n  acl:\n    no_match: deny\n');
      const { config } = loadConfig(hubSchema, { argv: ['--config', 'c.yaml'], env: {}, cwd: dir });
      assert.equal(config.mqtt.tcp.port, 1999);
      assert.equal(config.mqtt.acl.no_match, 'deny');
      writeFileSync(join(dir, 'bad.yml'), 'mqtt:\n  tcp: [\n');
      assert.throws(
        () => loadConfig(hubSchema, { argv: ['--config', 'bad.yml'], env: {}, cwd: dir }),
        (e: unknown) => ConfigError.is(e) && /^invalid config: config file .*bad\.yml is not valid YAML: [^\n]+$/.test((e as Error).message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fuzz: random values for every key only ever give a config or a one-line ConfigError', () => {
    const rnd = new SeededRandom(7);
    const pieces = ['', '0', '-1', '65536', 'true', 'no', '[]', '{}', '[{"username":"a","password":"b"}]', 'null', '/mqtt', 'x'.repeat(5000), '\u0000', 'redis://h:1', '1e3', ' 12 '];
    const keys = walkFields(hubSchema).map(([k]) => k);
    for (let i = 0; i < 3000; i++) {
      const key = keys[rnd.int(keys.length)]!;
      const value = pieces[rnd.int(pieces.length)]! + (rnd.float() < 0.3 ? String.fromCharCode(rnd.int(0x3000)) : '');
      try {
        loadConfig(hubSchema, { argv: [`--${key}=${value}`], env: {}, cwd: '/' });
      } catch (err) {
        assert.ok(ConfigError.is(err), `${key}=${JSON.stringify(value)}: ${String(err)}`);
        assert.ok(!(err as Error).message.includes('\n'));
      }
    }
  });

  it('a bad value is one line naming the key, the value, its source and what is allowed', () => {
    const bad = (argv: string[], env: Record<string, string> = {}) => {
      try {
        loadConfig(hubSchema, { argv, env, cwd: '/' });
      } catch (err) {
        assert.ok(ConfigError.is(err));
        assert.ok(!(err as Error).message.includes('\n'));
        return (err as Error).message;
      }
      assert.fail('expected a ConfigError');
    };
    assert.equal(
      bad([], { M2MHUB_MQTT__TCP__PORT: 'abc' }),
      'invalid config: mqtt.tcp.port = "abc" (from env M2MHUB_MQTT__TCP__PORT) is not allowed: expected an integer from 0 to 65535',
    );
    assert.match(bad(['--mqtt.tcp.port', '70000']), /mqtt\.tcp\.port = "70000" \(from flag --mqtt\.tcp\.port\)/);
    assert.match(bad(['--log.level', 'loud']), /expected one of trace, debug, info, warn, error, silent/);
    assert.match(bad(['--mqtt.tcp.prot', '1']), /unknown key mqtt\.tcp\.prot/);
    assert.match(bad([], { M2MHUB_MQTT__TCP__PROT: '1' }), /unknown key mqtt\.tcp\.prot/);
    assert.match(bad(['--mqtt.auth.users', '[{"username":"a"}]']), /mqtt\.auth\.users/);
    assert.match(bad([], { M2MHUB_CLUSTER__REDIS__URL: 'http://user:hunter2@x' }), /cluster\.redis\.url = "\*\*\*"/);
    // DESIGN.md §4: the admin password is a secret, never printed back.
    assert.equal(
      bad([], { M2MHUB_ADMIN_PASSWORD: 'hunter2' }),
      'invalid config: admin_password = "***" (from env M2MHUB_ADMIN_PASSWORD) is not allowed: expected at least 8 and at most 1024 characters',
    );
    assert.match(bad(['--config', '/nonexistent/m2mhub.json']), /cannot read config file \/nonexistent\/m2mhub\.json: ENOENT/);
  });

  it('a config file that is not valid JSON stops the process with one line and exit code 1', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'broken.json');
      writeFileSync(file, '{ "mqtt": { "tcp": { "port": 1884, } }');
      const r = await runHubExpectingExit(['--config', file], { M2MHUB_DATA_DIR: dir });
      assert.equal(r.code, 1);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^m2mhub: invalid config: config file .*broken\.json is not valid JSON/);
      const r2 = await runHubExpectingExit(['--mqtt.ws.path', 'no-slash'], { M2MHUB_DATA_DIR: dir });
      assert.equal(r2.code, 1);
      assert.equal(r2.stderr.trim(), 'm2mhub: invalid config: mqtt.ws.path = "no-slash" (from flag --mqtt.ws.path) is not allowed: expected a URL path starting with /');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a port already in use stops start-up with a clear error naming the listener and port', async () => {
    const dir = tempDir();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, HOST, r));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const env = { ...(await portEnv()), M2MHUB_DATA_DIR: dir, M2MHUB_MQTT__WS__PORT: String(busy) };
      const r = await runHubExpectingExit([], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^m2mhub: listener could not start: mqtt:ws listener cannot listen on 127\\.0\\.0\\.1:${busy}: address already in use\\n$`));
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable cluster.redis.url stops start-up with one line that hides the password', async () => {
    const dir = tempDir();
    try {
      const env = { ...(await portEnv()), M2MHUB_DATA_DIR: dir, M2MHUB_CLUSTER__REDIS__URL: 'redis://u:hunter2@127.0.0.1:1' };
      const r = await runHubExpectingExit([], env);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'm2mhub: broker persistence failed: cannot connect to redis://u:***@127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n');
      assert.ok(!r.stdout.includes('hunter2'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('docs/config.md lists every key (regenerate: pnpm --filter @m2mhub/hub config-docs)', () => {
    const doc = readFileSync(join(ROOT, 'docs/config.md'), 'utf8');
    const missing = configReference(hubSchema)
      .split('\n')
      .slice(2)
      .filter((row) => !doc.includes(row));
    assert.deepEqual(missing, [], 'docs/config.md is out of date');
  });

  it('startHub in-process with every port 0 reports the bound ports and stops cleanly', async () => {
    const dir = tempDir();
    const c = defaultConfig(hubSchema);
    c.data_dir = dir;
    c.admin_password = TEST_ADMIN_PASSWORD;
    for (const l of [c.mqtt.tcp, c.mqtt.ws, c.api]) {
      l.port = 0;
      l.bind = HOST;
    }
    const hub = await startHub(c);
    try {
      assert.ok(hub.ports['mqtt:tcp']! > 0 && hub.ports['mqtt:ws']! > 0 && hub.ports['api:http']! > 0);
      assert.ok(hub.status().listeners.every((l) => l.up));
      const r = await fetch(`http://${HOST}:${hub.ports['api:http']}/api/v5/status`);
      assert.equal(r.status, 200);
      // DESIGN.md §4: admin_password from the config authenticates in-process hubs too.
      const gw = `http://${HOST}:${hub.ports['api:http']}/api/v5/gateways`;
      assert.equal((await fetch(gw)).status, 401);
      assert.equal((await fetch(gw, { headers: adminAuth() })).status, 200);
      await hub.context.store.kv('test').put('k', 1);
    } finally {
      await hub.stop();
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
