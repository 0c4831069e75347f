import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapEndpoint, type IncomingRequest, type OutgoingResponse, UdpTransport } from '@m2mhub/coap';
import { BootstrapServer, type BootstrapServerEvents, ContentFormat, createBootstrapEndpoint, defaultCodecs, Lwm2mPath } from '../src/index';

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
});
