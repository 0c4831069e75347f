import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ClientRequest, CoapEndpoint, type IncomingRequest, UdpTransport } from '@m2mhub/coap';
import { readFileSync } from 'node:fs';
import { MemoryNetwork } from '@m2mhub/coap';
import { fromHex } from '@m2mhub/core';
import { FakeScheduler, SeededRandom } from '@m2mhub/core/testing';
import {
  ContentFormat,
  type Lwm2mServer,
  type NotificationEvent,
  ServerErrors,
  createLwm2mServer,
  createServerEndpoint,
  parseObjectLinks,
  parseRegisterQuery,
} from '../src/index';
import { sharedDir } from '@m2mhub/core/testing';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('LwM2M server: bad input gets a clear answer, never a crash', () => {
  let server: Lwm2mServer;
  let ep: CoapEndpoint;
  let client: CoapEndpoint;
  const reg = (query: string[], payload = '</3/0>', extra: Partial<ClientRequest> = {}) =>
    client.request(ep.address(), { method: 'POST', path: ['rd'], query, contentFormat: 40, payload: utf8(payload), ...extra });
  before(async () => {
    server = createLwm2mServer({ config: { requestTimeoutMs: 2_000 } });
    ep = createServerEndpoint(server, { transport: new UdpTransport({ address: '127.0.0.1', port: 0 }) });
    client = new CoapEndpoint({ transport: new UdpTransport({ address: '127.0.0.1', port: 0 }) });
    await ep.start();
    await client.start();
  });
  after(async () => {
    await client.close();
    await ep.close();
    await server.close();
  });

  it('LwM2M Core §6.2.1: Register without ep -> 4.00 with a diagnostic', async () => {
    const r = await reg(['lwm2m=1.1', 'lt=60']);
    assert.equal(r.code, '4.00');
    assert.match(Buffer.from(r.payload).toString(), /endpoint/);
  });

  it('LwM2M Transport §6.4.3: unknown lwm2m version -> 4.12 Precondition Failed (as the Wakaama server in anjay-client.jsonl frames 1-2)', async () => {
    assert.equal((await reg(['ep=v', 'lwm2m=2.0'])).code, '4.12');
    assert.equal((await reg(['ep=v', 'lwm2m='])).code, '4.12');
  });

  it('RFC 6690 §2: a broken link payload -> 4.00; bad query values -> 4.00', async () => {
    for (const p of ['</3/0', '<3/0>;', '</3/x>', '</3/0/1/2>', '</70000>', '</3>;ver=abc', '\u00ff\u00fe']) {
      assert.equal((await reg(['ep=broken', 'lwm2m=1.1'], p)).code, '4.00', p);
    }
    assert.equal((await reg(['ep=broken', 'lt=abc'])).code, '4.00');
    assert.equal((await reg(['ep=broken', 'b=XYZ'])).code, '4.00');
    assert.equal(await server.getRegistration('broken'), undefined);
    // Not UTF-8 at all.
    assert.equal((await reg(['ep=broken'], '', { payload: new Uint8Array([0xc3, 0x28]) })).code, '4.00');
  });

  it('LwM2M Core §6.2.2/§6.2.3: Update or De-register of an unknown registration -> 4.04; wrong methods -> 4.05', async () => {
    assert.equal((await client.request(ep.address(), { method: 'POST', path: ['rd', 'nope'] })).code, '4.04');
    assert.equal((await client.request(ep.address(), { method: 'DELETE', path: ['rd', 'nope'] })).code, '4.04');
    assert.equal((await client.request(ep.address(), { method: 'GET', path: ['rd'] })).code, '4.05');
    assert.equal((await client.request(ep.address(), { method: 'POST', path: ['dp'], contentFormat: 110, payload: utf8('[]') })).code, '4.04');
  });

  it('LwM2M Core §6.4.3: Send with a malformed payload -> 4.00, the registration stays', async () => {
    assert.equal((await reg(['ep=sender', 'lwm2m=1.1'])).code, '2.01');
    const r = await client.request(ep.address(), { method: 'POST', path: ['dp'], contentFormat: ContentFormat.SENML_JSON, payload: utf8('[{"n":') });
    assert.equal(r.code, '4.00');
    assert.ok(await server.getRegistration('sender'));
  });

  it('DESIGN.md §6: a DTLS identity bound to another endpoint -> 4.03; requireSecurity refuses plain UDP', async () => {
    const base: IncomingRequest = {
      method: 'POST',
      path: ['rd'],
      query: ['ep=victim', 'lwm2m=1.1'],
      contentFormat: 40,
      payload: utf8('</3/0>'),
      peer: { address: '127.0.0.1', port: 1, family: 'IPv4' },
      peerKey: '127.0.0.1:1',
      identity: { kind: 'psk', id: 'attacker-id', endpoint: 'attacker' },
      message: { type: 'CON', code: '0.02', messageId: 1, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) },
    };
    assert.equal((await server.handleRequest('udp', base)).code, '4.03');
    assert.equal((await server.handleRequest('udp', { ...base, identity: { kind: 'psk', id: 'v', endpoint: 'victim' } })).code, '2.01');
    const strict = createLwm2mServer({ config: { requireSecurity: true } });
    const { identity: _drop, ...plain } = base;
    const r = await strict.handleRequest('udp', plain);
    assert.equal(r.code, '4.03');
    assert.match(Buffer.from(r.payload!).toString(), /security/);
  });

  it('a device answering a malformed payload gives an error result (M2M_LWM2M_BAD_RESPONSE) and an error notification, never a crash', async () => {
    const dev = new CoapEndpoint({ transport: new UdpTransport({ address: '127.0.0.1', port: 0 }) });
    dev.fallback((req) => ({
      code: '2.05',
      contentFormat: ContentFormat.SENML_JSON,
      payload: utf8('{broken'),
      options: req.observe === 0 ? [{ number: 6, value: new Uint8Array([1]) }] : [],
    }));
    await dev.start();
    try {
      assert.equal((await dev.request(ep.address(), { method: 'POST', path: ['rd'], query: ['ep=liar', 'lwm2m=1.1'], contentFormat: 40, payload: utf8('</3/0>') })).code, '2.01');
      const r = await server.read('liar', '/3/0');
      assert.equal(r.code, '2.05');
      assert.equal(r.ok, false);
      assert.equal(r.error?.code, 'M2M_LWM2M_BAD_RESPONSE');
      assert.equal(r.content, undefined);
      const d = await server.discover('liar', '/3/0');
      assert.equal(d.ok, false);
      const obs = await server.observe('liar', '/3/0');
      assert.equal(obs.ok, false);
      assert.equal(obs.observationId, undefined);
      // An unknown content format in the answer.
      dev.fallback(() => ({ code: '2.05', contentFormat: 65000, payload: utf8('x') }));
      const u = await server.read('liar', '/3/0/0');
      assert.equal(u.error?.code, 'M2M_LWM2M_BAD_RESPONSE');
      // A notification that does not decode becomes an error notification.
      let notifyCount = 0;
      dev.fallback((req) => ({
        code: '2.05',
        contentFormat: ContentFormat.TEXT,
        payload: utf8(notifyCount++ === 0 ? '1' : '\u00ff'),
        options: req.observe === 0 ? [{ number: 6, value: new Uint8Array([1]) }] : [],
      }));
      const ok = await server.observe('liar', '/3/0/9');
      assert.ok(ok.observationId);
      assert.equal(ok.content?.[0]?.value, 1);
      const got = new Promise<NotificationEvent>((resolve) => server.on('notification', resolve));
      const { serializeMessage } = await import('@m2mhub/coap');
      await dev.transport.send(
        serializeMessage({
          type: 'NON',
          code: '2.05',
          messageId: 77,
          token: Buffer.from(ok.observationId!, 'hex'),
          options: [
            { number: 6, value: new Uint8Array([2]) },
            { number: 12, value: new Uint8Array([0x2d, 0x16]) },
          ],
          payload: utf8('zz'),
        }),
        ep.address(),
      );
      const n = await got;
      assert.equal(n.error?.code, 'M2M_LWM2M_BAD_RESPONSE');
    } finally {
      await dev.close();
    }
  });

  it('request records are validated: a bad path or value -> M2M_LWM2M_INVALID_REQUEST before anything is sent', async () => {
    assert.equal((await reg(['ep=valid', 'lwm2m=1.1'])).code, '2.01');
    const bad = (e: unknown) => ServerErrors.invalidRequest.is(e);
    await assert.rejects(server.read('valid', '/3/x'), bad);
    await assert.rejects(server.execute('valid', '/3/0'), bad);
    await assert.rejects(server.write('valid', '/3/0', [{ path: '/4/0/1', value: 1 }]), bad);
    await assert.rejects(server.writeAttributes('valid', '/3/0/9', { pmin: -1 }), bad);
    await assert.rejects(server.send('valid', { kind: 'nope' } as never), bad);
    await assert.rejects(server.readComposite('valid', []), bad);
    await assert.rejects(server.read('nobody', '/3/0'), (e: unknown) => ServerErrors.notRegistered.is(e));
  });

  it('fuzz: 3000 mutations of a real Register datagram (wakaama-client.jsonl frame 1) never crash the server; it still registers afterwards', async () => {
    const clock = new FakeScheduler();
    const rnd = new SeededRandom(9);
    const net = new MemoryNetwork(clock, rnd);
    const fuzzed = createLwm2mServer({ scheduler: clock, random: rnd });
    const tr = net.transport('10.0.0.1');
    const fep = createServerEndpoint(fuzzed, { transport: tr, scheduler: clock, random: rnd });
    await fep.start();
    const frame1 = JSON.parse(readFileSync(sharedDir('fixtures', 'real-clients', 'wakaama-client.jsonl'), 'utf8').split('\n')[0]!) as { messageHex: string };
    const original = fromHex(frame1.messageHex);
    for (let i = 0; i < 3000; i++) {
      const m = original.slice(0, 4 + rnd.int(original.length));
      const flips = 1 + rnd.int(4);
      for (let k = 0; k < flips; k++) m[rnd.int(m.length)] = rnd.int(256);
      m[2] = i >> 8;
      m[3] = i & 255;
      tr.inject(m, { address: '10.9.9.9', port: 1000 + (i % 50), family: 'IPv4' });
      if (i % 100 === 0) {
        for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
        clock.advance(10);
      }
    }
    for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
    const ok = original.slice();
    ok[2] = 0xff;
    ok[3] = 0xfe;
    tr.inject(ok, { address: '10.9.9.10', port: 5000, family: 'IPv4' });
    for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
    assert.equal((await fuzzed.getRegistration('wakaama-ep'))?.address.address, '10.9.9.10');
    await fep.close();
    await fuzzed.close();
  });

  it('fuzz: random query strings and link payloads only ever raise typed errors', () => {
    const rnd = new SeededRandom(42);
    const alphabet = '</>;,="=.0123456789abcrtvelmQ \u00e9';
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = rnd.int(60);
      for (let k = 0; k < n; k++) s += alphabet[rnd.int(alphabet.length)];
      try {
        parseObjectLinks(s);
      } catch (e) {
        assert.ok(ServerErrors.badRegistration.is(e), `links "${s}": ${(e as Error).message}`);
      }
      try {
        parseRegisterQuery(s.split(';'));
      } catch (e) {
        assert.ok((e as { code?: string }).code?.startsWith('M2M_LWM2M_'), `query "${s}"`);
      }
    }
  });
});
