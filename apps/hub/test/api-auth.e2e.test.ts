/**
 * DESIGN.md §4 "Authentication" against the real `m2mhub` process: the REST API needs Basic
 * auth (admin user or API key) or a Bearer token from POST /api/v5/login on every route but
 * /api/v5/status; the first start without M2MHUB_ADMIN_PASSWORD prints a generated password
 * once to stderr and never into the log; failed logins are rate limited per address.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { signToken } from '@m2mhub/admin-api';
import { adminAuth, HOST, type HubProcess, portEnv, sleep, spawnHub, TEST_ADMIN_PASSWORD, tempDir } from './helpers';

const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
const json = { 'content-type': 'application/json' };

describe('hub: REST API authentication', () => {
  let hub: HubProcess;
  let dir: string;
  let api: string;
  before(async () => {
    dir = tempDir('m2mhub-apiauth-');
    hub = await spawnHub({ dataDir: dir, env: { ...(await portEnv()), M2MHUB_API__TOKEN_TTL: '2s', M2MHUB_API__AUTH__MAX_FAILURES: '5' } });
    api = `http://${HOST}:${hub.ports['api:http']}/api/v5`;
  });
  after(async () => {
    await hub?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  const putCredential = (headers: Record<string, string>) =>
    fetch(`${api}/gateways/lwm2m/credentials/dev1`, { method: 'PUT', headers: { ...json, ...headers }, body: JSON.stringify({ psk: { identity: 'dev1', key: '00112233' } }) });

  it('RFC 7235 §3.1: PUT credentials without credentials is 401 with {code, message} and WWW-Authenticate; GET /status stays public', async () => {
    const r = await putCredential({});
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /Basic realm="m2mhub"/);
    assert.deepEqual(await r.json(), { code: 'M2M_API_UNAUTHORIZED', message: 'authentication required' });
    assert.equal((await fetch(`${api}/gateways/lwm2m/clients`)).status, 401);
    assert.equal((await fetch(`${api}/status`)).status, 200);
  });

  it('RFC 7617: Basic admin:<M2MHUB_ADMIN_PASSWORD> is 200; a wrong password is 401', async () => {
    assert.equal((await putCredential(adminAuth())).status, 200);
    const bad = await putCredential(basic('admin', 'wrong-password'));
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { code: string }).code, 'M2M_API_BAD_CREDENTIALS');
  });

  it('RFC 6750 §2.1: POST /login gives a Bearer token that works; expired and forged tokens are 401', async () => {
    const r = await fetch(`${api}/login`, { method: 'POST', headers: json, body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }) });
    assert.equal(r.status, 200);
    const { token, expires_in } = (await r.json()) as { token: string; expires_in: number };
    assert.equal(expires_in, 2);
    const t0 = Date.now();
    assert.equal((await fetch(`${api}/gateways/lwm2m/clients`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const now = Math.floor(Date.now() / 1000);
    const forged = signToken(randomBytes(32), { sub: 'admin', gen: 1, iat: now, exp: now + 3600 });
    const f = await fetch(`${api}/gateways/lwm2m/clients`, { headers: { authorization: `Bearer ${forged}` } });
    assert.equal(f.status, 401);
    assert.match(f.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    await sleep(Math.max(0, 2100 - (Date.now() - t0)));
    const expired = await fetch(`${api}/gateways/lwm2m/clients`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(expired.status, 401);
    assert.equal(((await expired.json()) as { code: string }).code, 'M2M_API_BAD_TOKEN');
  });

  it('EMQX /api_key: create -> Basic api_key:api_secret works -> delete -> 401', async () => {
    const c = await fetch(`${api}/api_key`, { method: 'POST', headers: { ...json, ...adminAuth() }, body: JSON.stringify({ name: 'ci' }) });
    assert.equal(c.status, 200);
    const k = (await c.json()) as { api_key: string; api_secret: string };
    assert.equal((await putCredential(basic(k.api_key, k.api_secret))).status, 200);
    const list = await (await fetch(`${api}/api_key`, { headers: adminAuth() })).text();
    assert.ok(list.includes(k.api_key) && !list.includes(k.api_secret));
    assert.equal((await fetch(`${api}/api_key/ci`, { method: 'DELETE', headers: adminAuth() })).status, 204);
    assert.equal((await putCredential(basic(k.api_key, k.api_secret))).status, 401);
  });

  it('secrets never reach the log', () => {
    const log = hub.logs.join('\n');
    for (const s of [TEST_ADMIN_PASSWORD, '00112233']) assert.ok(!log.includes(s), s);
  });

  // Last: it blocks 127.0.0.1 for this hub. Two failures were counted above (wrong password, deleted key).
  it('brute force: after api.auth.max_failures bad passwords the address gets 429, even with the right one; /status stays public', async () => {
    const login = (password: string) => fetch(`${api}/login`, { method: 'POST', headers: json, body: JSON.stringify({ username: 'admin', password }) });
    for (let i = 0; i < 3; i++) assert.equal((await login(`guess-${i}`)).status, 401);
    const r = await login(TEST_ADMIN_PASSWORD);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal((await putCredential(adminAuth())).status, 429);
    assert.equal((await fetch(`${api}/status`)).status, 200);
  });
});

describe('hub: first start without M2MHUB_ADMIN_PASSWORD', () => {
  it('prints a generated admin password once to stderr (not in the log); the next start does not; M2MHUB_ADMIN_PASSWORD resets it', async () => {
    const dir = tempDir('m2mhub-apiauth-gen-');
    try {
      const env = await portEnv();
      let hub = await spawnHub({ dataDir: dir, env, adminPassword: false });
      let password: string;
      try {
        const m = /password: (\S+)/.exec(hub.stderr());
        assert.ok(m, `banner on stderr: ${hub.stderr()}`);
        password = m[1]!;
        assert.ok(password.length >= 20);
        assert.equal(hub.stderr().split('password: ').length, 2, 'printed once');
        assert.ok(!hub.logs.some((l) => l.includes(password)), 'not in any log line');
        const api = `http://${HOST}:${hub.ports['api:http']}/api/v5`;
        assert.equal((await fetch(`${api}/gateways`, { headers: basic('admin', password) })).status, 200);
      } finally {
        await hub.kill('SIGTERM');
      }
      hub = await spawnHub({ dataDir: dir, env, adminPassword: false });
      try {
        assert.ok(!hub.stderr().includes('password'), hub.stderr());
        const api = `http://${HOST}:${hub.ports['api:http']}/api/v5`;
        assert.equal((await fetch(`${api}/gateways`, { headers: basic('admin', password) })).status, 200);
      } finally {
        await hub.kill('SIGTERM');
      }
      // Recovery: a different M2MHUB_ADMIN_PASSWORD replaces the stored one.
      hub = await spawnHub({ dataDir: dir, env, adminPassword: 'recovered-password' });
      try {
        const api = `http://${HOST}:${hub.ports['api:http']}/api/v5`;
        assert.equal((await fetch(`${api}/gateways`, { headers: basic('admin', 'recovered-password') })).status, 200);
        assert.equal((await fetch(`${api}/gateways`, { headers: basic('admin', password) })).status, 401);
        assert.ok(!hub.logs.some((l) => l.includes('recovered-password')));
      } finally {
        await hub.kill('SIGTERM');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
