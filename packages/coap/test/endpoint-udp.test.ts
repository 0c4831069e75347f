import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoapErrors } from '../src/errors';
import { str, text, udpEndpoint } from './helpers';

test('RFC 7252 §5.2.1: GET over UDP gets a piggybacked response; routes with params', async () => {
  const server = await udpEndpoint();
  const client = await udpEndpoint();
  try {
    server.route('GET', '/hello/:name', (req) => ({ code: '2.05', contentFormat: 0, payload: text(`hi ${req.params?.name}`) }));
    server.route('POST', '/rd', (req) => ({ code: '2.01', locationPath: ['rd', 'x1'], payload: req.payload }));
    const res = await client.request(server.address(), { method: 'GET', path: '/hello/bob' });
    assert.equal(res.code, '2.05');
    assert.equal(res.contentFormat, 0);
    assert.equal(str(res.payload), 'hi bob');
    assert.equal(res.message.type, 'ACK');
    const post = await client.request(server.address(), { method: 'POST', path: 'rd', query: ['ep=a'], payload: text('</1>') });
    assert.equal(post.code, '2.01');
    const missing = await client.request(server.address(), { method: 'GET', path: '/nope' });
    assert.equal(missing.code, '4.04');
    const wrongMethod = await client.request(server.address(), { method: 'DELETE', path: '/rd' });
    assert.equal(wrongMethod.code, '4.05');
  } finally {
    await client.close();
    await server.close();
  }
});

test('RFC 7252 §5.2.2: a slow handler gets an empty ACK, then a separate CON response', async () => {
  const server = await udpEndpoint({ limits: { separateResponseDelayMs: 20 } });
  const client = await udpEndpoint();
  try {
    server.route('GET', '/slow', async () => {
      await new Promise((r) => setTimeout(r, 120));
      return { code: '2.05', payload: text('late') };
    });
    const res = await client.request(server.address(), { method: 'GET', path: '/slow' });
    assert.equal(res.code, '2.05');
    assert.equal(str(res.payload), 'late');
    assert.equal(res.message.type, 'CON');
  } finally {
    await client.close();
    await server.close();
  }
});

test('RFC 7252 §4.3: CoAP ping (Empty CON) is answered with RST', async () => {
  const server = await udpEndpoint();
  const client = await udpEndpoint();
  try {
    assert.equal(await client.ping(server.address()), true);
    assert.equal(server.stats().pings, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test('request timeout and AbortSignal cancel reject with typed errors', async () => {
  const client = await udpEndpoint();
  const silent = await udpEndpoint();
  await silent.close();
  try {
    await assert.rejects(
      client.request(silent.address(), { method: 'GET', path: '/x', timeoutMs: 50 }),
      (e) => CoapErrors.timeout.is(e),
    );
    const ac = new AbortController();
    const p = client.request(silent.address(), { method: 'GET', path: '/x', signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e) => CoapErrors.cancelled.is(e));
    assert.equal(client.stats().exchanges, 0);
    assert.equal(client.stats().clientRequests, 0);
  } finally {
    await client.close();
  }
});
