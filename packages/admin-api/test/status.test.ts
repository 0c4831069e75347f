import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyPluginAsync } from 'fastify';
import { createMemoryStore } from '@m2mhub/store';
import { FakeScheduler } from '@m2mhub/core/testing';
import { ApiAuth, createApiServer, type HubStatus } from '../src/index';

describe('admin-api', () => {
  it('GET /api/v5/status is 503 until every enabled listener is up, then 200, over a real socket', async () => {
    const st: HubStatus = {
      version: 't',
      uptime: 1,
      listeners: [
        { name: 'mqtt:tcp', protocol: 'mqtt', transport: 'tcp', bind: '127.0.0.1', port: 1, enabled: true, up: false },
        { name: 'mqtt:tls', protocol: 'mqtt', transport: 'tls', bind: '127.0.0.1', port: 2, enabled: false, up: false },
      ],
    };
    // Status and /api-docs stay public with authentication on (DESIGN.md §4).
    const store = createMemoryStore();
    await store.open();
    const auth = await ApiAuth.open({ store, clock: new FakeScheduler() });
    await auth.users.bootstrap('admin-password');
    const app = await createApiServer({ status: () => st, auth });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      let r = await fetch(`${base}/api/v5/status`);
      assert.equal(r.status, 503);
      assert.equal(((await r.json()) as { status: string }).status, 'starting');
      st.listeners[0]!.up = true;
      r = await fetch(`${base}/api/v5/status`);
      assert.equal(r.status, 200);
      const body = (await r.json()) as HubStatus & { status: string };
      assert.equal(body.status, 'running');
      assert.deepEqual(
        body.listeners.map((l) => l.name),
        ['mqtt:tcp', 'mqtt:tls'],
      );
      const docs = await fetch(`${base}/api-docs/json`);
      assert.equal(docs.status, 200);
      assert.ok(((await docs.json()) as { paths: Record<string, unknown> }).paths['/api/v5/status']);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('plugins passed to createApiServer are mounted under /api/v5', async () => {
    const hello: FastifyPluginAsync<{ who: string }> = async (app, opts) => {
      app.get('/hello', { schema: { response: { 200: { type: 'object', properties: { hi: { type: 'string' } } } } } }, async () => ({
        hi: opts.who,
      }));
    };
    const app = await createApiServer({ status: () => ({ version: 't', uptime: 0, listeners: [] }), auth: false, plugins: [{ plugin: hello, options: { who: 'x' } }] });
    const r = await app.inject({ method: 'GET', url: '/api/v5/hello' });
    assert.deepEqual(r.json(), { hi: 'x' });
    assert.equal((await app.inject({ method: 'GET', url: '/api/v5/nope' })).statusCode, 404);
    await app.close();
  });
});
