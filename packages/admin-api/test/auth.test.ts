/** REST API authentication (DESIGN.md §4): tokens, the failed-login limiter, and the hook over a real socket. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMemoryStore, type Store } from '@m2mhub/store';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { isM2MError } from '@m2mhub/core';
import { FakeScheduler, SeededRandom } from '@m2mhub/core/testing';
import { ApiAuth, createApiServer, LoginLimiter, signToken, VerifiedCache, verifyToken } from '../src/index';

const PASSWORD = 'correct horse battery';
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('token (RFC 7519 HS256)', () => {
  const key = Buffer.alloc(32, 7);
  it('RFC 7519 §4.1.4: valid until exp, refused on and after it', () => {
    const t = signToken(key, { sub: 'admin', gen: 1, iat: 100, exp: 160 });
    assert.deepEqual(verifyToken(key, t, 159), { sub: 'admin', gen: 1, iat: 100, exp: 160 });
    assert.equal(verifyToken(key, t, 160), undefined);
  });
  it('RFC 7518 §3.2: another key, a changed payload, alg none or junk are refused', () => {
    const t = signToken(key, { sub: 'admin', gen: 1, iat: 100, exp: 160 });
    assert.equal(verifyToken(Buffer.alloc(32, 8), t, 120), undefined);
    const [h, , s] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'root', gen: 1, iat: 100, exp: 9e9 })).toString('base64url');
    assert.equal(verifyToken(key, `${h}.${forged}.${s}`, 120), undefined);
    const none = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    assert.equal(verifyToken(key, `${none}.${forged}.`, 120), undefined);
    for (const junk of ['', '.', '..', 'a.b.c', 'x'.repeat(10_000), `${t}.x`]) assert.equal(verifyToken(key, junk, 120), undefined);
  });
});

describe('LoginLimiter', () => {
  it('blocks an address after maxFailures within the window until the window ends (fake clock)', () => {
    const clock = new FakeScheduler();
    const l = new LoginLimiter(clock, { maxFailures: 3, windowMs: 10_000 });
    for (let i = 0; i < 3; i++) {
      assert.equal(l.blockedFor('a'), 0);
      l.fail('a');
      clock.advance(1000);
    }
    assert.equal(l.blockedFor('a'), 7000);
    assert.equal(l.blockedFor('b'), 0);
    clock.advance(6999);
    assert.equal(l.blockedFor('a'), 1);
    clock.advance(1);
    assert.equal(l.blockedFor('a'), 0);
  });
  it('bounds the addresses it tracks, dropping the oldest', () => {
    const l = new LoginLimiter(new FakeScheduler(), { maxFailures: 1, maxTracked: 100 });
    for (let i = 0; i < 10_000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(l.size, 100);
    assert.ok(l.blockedFor('10.0.39.15') > 0);
    assert.equal(l.blockedFor('10.0.0.0'), 0);
  });
});

describe('VerifiedCache', () => {
  it('trusts a verified password for ttl, then forgets it; bounded', () => {
    const clock = new FakeScheduler();
    const c = new VerifiedCache(clock, { cacheTtlMs: 1000, cacheMaxEntries: 10 });
    c.set('admin', 'pw', 3);
    assert.equal(c.get('admin', 'pw'), 3);
    assert.equal(c.get('admin', 'pw2'), undefined);
    assert.equal(c.get('admin2', 'pw'), undefined);
    clock.advance(1000);
    assert.equal(c.get('admin', 'pw'), undefined);
    for (let i = 0; i < 100; i++) c.set('u', `p${i}`, 1);
    assert.equal(c.size, 10);
    assert.equal(c.get('u', 'p99'), 1);
  });
});

describe('ApiAuth token key in a cluster', () => {
  it('DESIGN.md §5: a token from the node whose signing key won the start-up race verifies on the other node', async () => {
    const store = createMemoryStore();
    await store.open();
    const clock = new FakeScheduler(0, Date.now());
    try {
      const a = await ApiAuth.open({ store, clock });
      await a.users.bootstrap('cluster-password');
      // Node B wrote its key after A had read its own.
      await store.kv('api.auth').put('token_key', Buffer.alloc(32, 9).toString('base64'));
      const b = await ApiAuth.open({ store, clock });
      const { token } = await b.login('admin', 'cluster-password', 'x');
      assert.deepEqual(await a.authenticate(`Bearer ${token}`, 'x'), { kind: 'token', name: 'admin' });
    } finally {
      await store.close();
    }
  });
});

describe('ApiAuth.authenticate fuzz', () => {
  it('random Authorization headers only ever give a principal or a typed 401/429 error', async () => {
    const store = createMemoryStore();
    await store.open();
    const auth = await ApiAuth.open({ store, clock: new FakeScheduler(), maxFailures: 1_000_000 });
    await auth.users.bootstrap('fuzz-password');
    const rnd = new SeededRandom(11);
    const pieces = ['Basic ', 'Bearer ', 'basic', 'bearer  ', ' ', ':', 'admin', 'YWRtaW46', '=', '.', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', '\u0000', 'x'.repeat(9000), '%', 'é'];
    try {
      for (let i = 0; i < 300; i++) {
        let h = '';
        for (let j = rnd.int(5); j >= 0; j--) h += pieces[rnd.int(pieces.length)]!;
        if (rnd.float() < 0.3) h += Buffer.from(rnd.bytes(rnd.int(40))).toString(rnd.float() < 0.5 ? 'base64' : 'latin1');
        try {
          await auth.authenticate(h, '10.0.0.1');
        } catch (err) {
          assert.ok(isM2MError(err) && [401, 429].includes(err.wire.http ?? 0), `${JSON.stringify(h.slice(0, 80))}: ${String(err)}`);
        }
      }
    } finally {
      await store.close();
    }
  });
});

describe('admin-api authentication over a real socket', () => {
  let store: Store;
  let clock: FakeScheduler;
  let auth: ApiAuth;
  let app: FastifyInstance;
  let base: string;
  const secret: FastifyPluginAsync = async (a) => {
    a.put('/gateways/lwm2m/credentials/:ep', async () => ({ ok: true }));
  };
  before(async () => {
    store = createMemoryStore();
    await store.open();
    clock = new FakeScheduler(0, Date.now());
    auth = await ApiAuth.open({ store, clock, tokenTtlSec: 60, maxFailures: 3, windowMs: 60_000 });
    assert.deepEqual(await auth.users.bootstrap(PASSWORD), { reset: false });
    app = await createApiServer({ status: () => ({ version: 't', uptime: 0, listeners: [] }), auth, plugins: [{ plugin: secret }] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v5`;
  });
  after(async () => {
    await app.close();
    await store.close();
  });
  const put = (auth?: string) => fetch(`${base}/gateways/lwm2m/credentials/x`, { method: 'PUT', ...(auth ? { headers: { authorization: auth } } : {}) });

  it('RFC 7235 §3.1: a plugin route without credentials is 401 with {code, message} and WWW-Authenticate; unknown routes too', async () => {
    const r = await put();
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="m2mhub".*Bearer realm="m2mhub"/);
    assert.deepEqual(await r.json(), { code: 'M2M_API_UNAUTHORIZED', message: 'authentication required' });
    assert.equal((await fetch(`${base}/nope`)).status, 401);
    assert.equal((await fetch(`${base}/nope`, { headers: { authorization: basic('admin', PASSWORD) } })).status, 404);
    assert.equal((await put('Digest x')).status, 401);
    assert.equal((await put('Basic !!!')).status, 401);
  });

  it('RFC 7617: Basic with the admin password works; /status, /api-docs stay public', async () => {
    assert.equal((await put(basic('admin', PASSWORD))).status, 200);
    assert.equal((await fetch(`${base}/status`)).status, 200);
    const docs = (await (await fetch(`${base.replace('/api/v5', '')}/api-docs/json`)).json()) as { components: { securitySchemes: object } };
    assert.deepEqual(Object.keys(docs.components.securitySchemes), ['basicAuth', 'bearerAuth']);
  });

  it('RFC 6750 §2.1: login gives a Bearer token that works until it expires; a password change revokes it', async () => {
    const r = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    assert.equal(r.status, 200);
    const { token, expires_in } = (await r.json()) as { token: string; expires_in: number };
    assert.equal(expires_in, 60);
    assert.equal((await put(`Bearer ${token}`)).status, 200);
    clock.advance(60_000);
    const expired = await put(`Bearer ${token}`);
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal(((await expired.json()) as { code: string }).code, 'M2M_API_BAD_TOKEN');
    const t2 = (await auth.login('admin', PASSWORD, 'x')).token;
    assert.equal((await put(`Bearer ${t2}`)).status, 200);
    assert.equal((await put(basic('admin', PASSWORD))).status, 200);
    await auth.users.setPassword('admin', `${PASSWORD}!`);
    assert.equal((await put(`Bearer ${t2}`)).status, 401);
    // Regression guard: the verified-password cache must not keep the old password working.
    assert.equal((await put(basic('admin', PASSWORD))).status, 401);
    assert.equal((await put(basic('admin', `${PASSWORD}!`))).status, 200);
    await auth.users.setPassword('admin', PASSWORD);
  });

  it('API keys: create (secret once), Basic api_key:api_secret, list without secrets, an API key cannot manage keys, delete -> 401', async () => {
    const admin = { authorization: basic('admin', PASSWORD), 'content-type': 'application/json' };
    const c = await fetch(`${base}/api_key`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'ci' }) });
    assert.equal(c.status, 200);
    const k = (await c.json()) as { name: string; api_key: string; api_secret: string };
    assert.equal(k.name, 'ci');
    assert.equal((await fetch(`${base}/api_key`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'ci' }) })).status, 409);
    assert.equal((await fetch(`${base}/api_key`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bad name' }) })).status, 400);
    assert.equal((await put(basic(k.api_key, k.api_secret))).status, 200);
    const list = await (await fetch(`${base}/api_key`, { headers: admin })).text();
    assert.ok(list.includes(k.api_key) && !list.includes(k.api_secret) && !list.includes('secretHash'));
    const asKey = await fetch(`${base}/api_key`, { headers: { authorization: basic(k.api_key, k.api_secret) } });
    assert.equal(asKey.status, 403);
    const del = () => fetch(`${base}/api_key/ci`, { method: 'DELETE', headers: { authorization: admin.authorization } });
    assert.equal((await del()).status, 204);
    assert.equal((await del()).status, 404);
    assert.equal((await put(basic(k.api_key, k.api_secret))).status, 401);
  });

  it('EMQX change_pwd: the admin changes its own password (old one checked, new one at least 8); old password and tokens stop working', async () => {
    clock.advance(120_000); // a fresh failed-login window for 127.0.0.1
    const t = (await auth.login('admin', PASSWORD, 'x')).token;
    const change = (authz: string, body: unknown) =>
      fetch(`${base}/users/admin/change_pwd`, { method: 'POST', headers: { authorization: authz, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await change(basic('admin', PASSWORD), { old_pwd: PASSWORD, new_pwd: 'short' })).status, 400);
    assert.equal((await change(basic('admin', PASSWORD), { old_pwd: 'wrong-old', new_pwd: 'new-password-1' })).status, 401);
    assert.equal((await change(`Bearer ${t}`, { old_pwd: PASSWORD, new_pwd: 'new-password-1' })).status, 204);
    assert.equal((await put(`Bearer ${t}`)).status, 401);
    assert.equal((await put(basic('admin', PASSWORD))).status, 401);
    assert.equal((await change(basic('admin', 'new-password-1'), { old_pwd: 'new-password-1', new_pwd: PASSWORD })).status, 204);
    assert.equal((await put(basic('admin', PASSWORD))).status, 200);
  });

  it('a malformed login body is 400 without echoing it (V8 JSON errors quote the input)', async () => {
    const r = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"admin","password":hunter2secret}' });
    assert.equal(r.status, 400);
    assert.ok(!(await r.text()).includes('hunter2'));
  });

  it('brute force: after max_failures bad passwords from one address, even the right one is 429 until the window ends', async () => {
    clock.advance(120_000);
    const login = (password: string) => fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
    // One failure was counted by the deleted API key above; the window has passed since.
    for (let i = 0; i < 2; i++) assert.equal((await login(`guess${i}`)).status, 401);
    assert.equal((await put(basic('admin', 'guess'))).status, 401);
    const blocked = await login(PASSWORD);
    assert.equal(blocked.status, 429);
    assert.equal(blocked.headers.get('retry-after'), '60');
    assert.equal(((await blocked.json()) as { code: string }).code, 'M2M_API_TOO_MANY_ATTEMPTS');
    assert.equal((await put(basic('admin', PASSWORD))).status, 429);
    assert.equal((await fetch(`${base}/status`)).status, 200);
    clock.advance(60_000);
    assert.equal((await login(PASSWORD)).status, 200);
  });
});
