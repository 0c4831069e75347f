import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isM2MError } from '@m2mhub/core';
import { CoapEndpoint, type IncomingRequest, type OutgoingResponse, UdpTransport } from '@m2mhub/coap';
import {
  BootstrapServer,
  type BootstrapServerEvents,
  ContentFormat,
  bootstrapConfigFromJson,
  bootstrapConfigToJson,
  createBootstrapEndpoint,
  defaultCodecs,
  Lwm2mPath,
} from '../src/index';

const udp = () => new UdpTransport({ address: '127.0.0.1', port: 0 });
const CONFIG = {
  endpoint: 'bs-dev',
  servers: [{ uri: 'coaps://hub.example:5784', securityMode: 'psk' as const, pskIdentity: 'bs-dev', pskKey: new Uint8Array([9, 9, 9]), shortServerId: 7, lifetime: 300, binding: 'UQ' }],
};

async function device(answer: (req: IncomingRequest) => OutgoingResponse) {
  const seen: IncomingRequest[] = [];
  const ep = new CoapEndpoint({ transport: udp() });
  ep.fallback((req) => {
    seen.push(req);
    return answer(req);
  });
  await ep.start();
  return { ep, seen };
}

describe('LwM2M bootstrap server', () => {
  it('LwM2M Core §6.1.7: the session plan is Delete /0, /1, Write /0/1 and /1/1, Finish', () => {
    const bs = new BootstrapServer();
    const plan = bs.plan(CONFIG);
    assert.deepEqual(
      plan.map((s) => `${s.method} ${s.path}`),
      ['GET /', 'DELETE /0', 'DELETE /1', 'PUT /0/1', 'PUT /1/1', 'POST /bs'],
    );
    const sec = plan[3]!.values!;
    assert.deepEqual(sec.find((v) => v.path === '/0/1/2')?.value, 0, 'PSK security mode');
    assert.deepEqual(sec.find((v) => v.path === '/0/1/10')?.value, 7);
    assert.equal(plan[4]!.values!.find((v) => v.path === '/1/1/7')?.value, 'UQ');
  });

  it('LwM2M Core §6.1.3: Bootstrap-Request -> 2.04, then TLV writes the device can decode, then Finish; the secret never appears in events', async () => {
    const bs = new BootstrapServer();
    await bs.configs.put(CONFIG);
    const bep = createBootstrapEndpoint(bs, { transport: udp() });
    await bep.start();
    const dev = await device((req) => (req.method === 'DELETE' ? { code: '2.02' } : { code: '2.04' }));
    const events: unknown[] = [];
    for (const n of ['bootstrapStarted', 'bootstrapStep', 'bootstrapFinished', 'bootstrapFailed'] as const) bs.on(n, (e) => events.push(e));
    const finished = new Promise<BootstrapServerEvents['bootstrapFinished']>((r) => bs.on('bootstrapFinished', r));
    try {
      const r = await dev.ep.request(bep.address(), { method: 'POST', path: ['bs'], query: ['ep=bs-dev'] });
      assert.equal(r.code, '2.04');
      assert.equal((await finished).endpoint, 'bs-dev');
      assert.deepEqual(
        dev.seen.map((s) => `${s.method} /${s.path.join('/')}`),
        ['GET /', 'DELETE /0', 'DELETE /1', 'PUT /0/1', 'PUT /1/1', 'POST /bs'],
      );
      const write = dev.seen[3]!;
      assert.equal(write.contentFormat, ContentFormat.TLV);
      const values = defaultCodecs().get(ContentFormat.TLV)!.decode(write.payload, { path: Lwm2mPath.parse('/0/1'), model: { getObject: () => undefined, getResource: () => undefined } });
      assert.ok(values.some((v) => v.path === '/0/1/0'));
      assert.ok(!JSON.stringify(events, (_k, v) => (v instanceof Uint8Array ? [...v] : v)).includes('9,9,9'));
    } finally {
      await dev.ep.close();
      await bep.close();
    }
  });

  it('LwM2M Core §6.1.3: unknown endpoint -> 4.00; a device refusing a write ends the session with bootstrapFailed', async () => {
    const bs = new BootstrapServer();
    await bs.configs.put(CONFIG);
    const bep = createBootstrapEndpoint(bs, { transport: udp() });
    await bep.start();
    const dev = await device((req) => (req.method === 'PUT' ? { code: '4.00' } : { code: '2.02' }));
    try {
      assert.equal((await dev.ep.request(bep.address(), { method: 'POST', path: ['bs'], query: ['ep=stranger'] })).code, '4.00');
      assert.equal((await dev.ep.request(bep.address(), { method: 'POST', path: ['bs'] })).code, '4.00');
      const failed = new Promise<BootstrapServerEvents['bootstrapFailed']>((r) => bs.on('bootstrapFailed', r));
      assert.equal((await dev.ep.request(bep.address(), { method: 'POST', path: ['bs'], query: ['ep=bs-dev'] })).code, '2.04');
      const f = await failed;
      assert.equal(f.step, 'write /0/1');
      assert.match(f.error, /4\.00/);
      assert.ok(!dev.seen.some((s) => s.path.join('/') === 'bs'), 'no Finish after a failure');
    } finally {
      await dev.ep.close();
      await bep.close();
    }
  });

  it('LwM2M Core 1.1 E.1: RPK / X.509 accounts need resources 3, 4 and 5; the error names the missing fields, never a value', () => {
    const bs = new BootstrapServer();
    const secret = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    const base = { uri: 'coaps://h:5784', shortServerId: 1, lifetime: 60, binding: 'U' };
    const plan = bs.plan({ endpoint: 'd', servers: [{ ...base, securityMode: 'x509', publicKeyOrIdentity: new Uint8Array([1]), serverPublicKey: new Uint8Array([2]), secretKey: secret }] });
    const sec = plan.find((s) => s.path === '/0/1')!.values!;
    assert.deepEqual(
      sec.filter((v) => /\/[2-5]$/.test(v.path)).map((v) => v.value),
      [2, new Uint8Array([1]), new Uint8Array([2]), secret],
    );
    assert.throws(
      () => bs.plan({ endpoint: 'd', servers: [{ ...base, securityMode: 'rpk', secretKey: secret }] }),
      (e: unknown) => isM2MError(e) && e.code === 'M2M_LWM2M_INVALID_REQUEST' && /publicKeyOrIdentity, serverPublicKey/.test(e.message) && !/dead|222/.test(e.message),
    );
  });

  it('LwM2M Core 1.1 Bootstrap Interface: Bootstrap-Read is planned after Discover only for /1 and /2; the Security object is refused', () => {
    const bs = new BootstrapServer();
    assert.deepEqual(
      bs.plan({ ...CONFIG, reads: ['/1', '/2/0'] }).slice(0, 4).map((s) => `${s.name} ${s.path}`),
      ['discover /', 'read /1', 'read /2/0', 'delete /0'],
    );
    for (const bad of ['/0', '/0/1/5', '/', '/3', '/1/x']) {
      assert.throws(() => bs.plan({ ...CONFIG, reads: [bad] }), /Bootstrap-Read allows only/, bad);
    }
  });

  it('LwM2M Core 1.1 Bootstrap Interface: a device refusing Bootstrap-Read (4.01) does not stop the session; reads stays empty', async () => {
    const bs = new BootstrapServer();
    await bs.configs.put({ ...CONFIG, reads: ['/1'] });
    const bep = createBootstrapEndpoint(bs, { transport: udp() });
    await bep.start();
    const dev = await device((req) => (req.method === 'GET' && req.path.length > 0 ? { code: '4.01' } : req.method === 'DELETE' ? { code: '2.02' } : { code: '2.04' }));
    const finished = new Promise<BootstrapServerEvents['bootstrapFinished']>((r) => bs.on('bootstrapFinished', r));
    try {
      assert.equal((await dev.ep.request(bep.address(), { method: 'POST', path: ['bs'], query: ['ep=bs-dev'] })).code, '2.04');
      assert.deepEqual((await finished).reads, {});
      assert.deepEqual(dev.seen[1]?.path, ['1']);
    } finally {
      await dev.ep.close();
      await bep.close();
    }
  });

  it('stored JSON: key material round-trips as base64; bad fields get one-line errors naming the field, never the value', () => {
    const cfg = { endpoint: 'j', reads: ['/1'], servers: [{ ...CONFIG.servers[0]!, securityMode: 'rpk' as const, publicKeyOrIdentity: new Uint8Array([1, 2]), serverPublicKey: new Uint8Array([3]), secretKey: new Uint8Array([255, 0, 7]) }] };
    const json = JSON.parse(JSON.stringify(bootstrapConfigToJson(cfg)));
    assert.equal(json.servers[0].secretKey, '/wAH');
    assert.deepEqual(bootstrapConfigFromJson(json), cfg);
    const bad = (patch: Record<string, unknown>) => ({ ...json, servers: [{ ...json.servers[0], ...patch }] });
    assert.throws(() => bootstrapConfigFromJson(bad({ secretKey: 'not base64!' })), (e: Error) => /secretKey must be base64/.test(e.message) && !e.message.includes('not base64!'));
    assert.throws(() => bootstrapConfigFromJson(bad({ secretKey: 'A'.repeat(100) }), { maxKeyBytes: 16, maxServers: 4 }), /at most 16 bytes/);
    assert.throws(() => bootstrapConfigFromJson(bad({ securityMode: 'tls' })), /securityMode/);
    assert.throws(() => bootstrapConfigFromJson(bad({ lifetime: '60' })), /lifetime/);
    assert.throws(() => bootstrapConfigFromJson({ ...json, reads: '/1' }), /reads/);
    // Fuzz: random JSON-ish input gives a typed error or a config, never another exception.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pick = (): unknown => [null, 1, 'x', [], {}, true, 'AAAA', -1, [json.servers[0]]][Math.floor(rnd() * 9)];
    for (let i = 0; i < 500; i++) {
      const input: Record<string, unknown> = { ...json, servers: [{ ...json.servers[0] }] };
      const target = rnd() < 0.5 ? input : (input.servers as Record<string, unknown>[])[0]!;
      const keys = Object.keys(target);
      target[keys[Math.floor(rnd() * keys.length)]!] = pick();
      try {
        bootstrapConfigFromJson(input);
      } catch (e) {
        assert.ok(isM2MError(e), String(e));
      }
    }
  });
});
