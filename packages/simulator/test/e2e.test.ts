import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UdpTransport } from '@m2mhub/coap';
import type { CoapEndpoint } from '@m2mhub/coap';
import { ContentFormat, type Lwm2mServer, type Lwm2mServerEvents, createLwm2mServer, createServerEndpoint } from '@m2mhub/lwm2m';
import { SimulatedDevice, basicProfile, startDevice, wakaamaProfile } from '../src/index';

function once<K extends keyof Lwm2mServerEvents>(server: Lwm2mServer, name: K, pred: (e: Lwm2mServerEvents[K]) => boolean = () => true): Promise<Lwm2mServerEvents[K]> {
  return new Promise((resolve) => {
    const off = server.on(name, (e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

const devicesByName = new Map<string, SimulatedDevice>();

describe('LwM2M server <-> simulated device over UDP 127.0.0.1', () => {
  let server: Lwm2mServer;
  let serverEp: CoapEndpoint;
  const devices: CoapEndpoint[] = [];
  before(async () => {
    server = createLwm2mServer();
    serverEp = createServerEndpoint(server, { transport: new UdpTransport({ address: '127.0.0.1', port: 0 }) });
    await serverEp.start();
  });
  after(async () => {
    for (const d of devices) await d.close();
    await serverEp.close();
    await server.close();
  });
  async function device(opts: ConstructorParameters<typeof SimulatedDevice>[0] extends infer O ? Omit<O, 'server'> : never) {
    const d = new SimulatedDevice({ ...opts, server: serverEp.address() });
    devices.push(await startDevice(d));
    devicesByName.set(d.endpoint, d);
    return d;
  }

  it('LwM2M Core §6.2.1: a 1.1 client (Wakaama profile) registers; alternate path, ct and objects are recorded', async () => {
    const d = await device(wakaamaProfile('wak-1'));
    const ev = once(server, 'registered');
    const res = await d.register();
    assert.equal(res.code, '2.01');
    const { registration: reg } = await ev;
    assert.equal(reg.endpoint, 'wak-1');
    assert.equal(d.location, `/rd/${reg.id}`);
    assert.notEqual(reg.id, 'wak-1');
    assert.equal(reg.lwm2mVersion, '1.1');
    assert.equal(reg.contentFormat, 110);
    assert.equal(reg.lifetime, 300);
    assert.deepEqual(reg.objects.find((o) => o.id === 31024), { id: 31024, version: '1.0', instances: [10, 11, 12] });
  });

  it('a simulated device endpoint uses device-sized CoAP limits', () => {
    // Regression: with the server-sized defaults (a 100k-entry dedup LRU, preallocated) 2000
    // simulated devices in one process ran out of a 4 GB heap.
    for (const ep of devices) assert.ok(ep.limits.dedupCacheSize <= 64);
  });

  it('LwM2M Core §6.3.1: read an instance (SenML JSON, the device ct) and a single resource (text/plain)', async () => {
    const r = await server.read('wak-1', '/3/0');
    assert.equal(r.code, '2.05');
    assert.equal(r.codeName, 'content');
    assert.equal(r.contentFormat, ContentFormat.SENML_JSON);
    const manufacturer = r.content!.find((v) => v.path === '/3/0/0');
    assert.equal(manufacturer?.value, 'Open Mobile Alliance');
    assert.deepEqual(r.content!.filter((v) => v.path.startsWith('/3/0/7/')).map((v) => v.value), [3800, 5000]);
    const one = await server.read('wak-1', '/3/0/9', ContentFormat.TEXT);
    assert.equal(one.contentFormat, ContentFormat.TEXT);
    assert.deepEqual(one.content?.map((v) => [v.path, v.value]), [['/3/0/9', 100]]);
    const missing = await server.read('wak-1', '/3/0/99');
    assert.equal(missing.code, '4.04');
    assert.equal(missing.codeName, 'not_found');
    assert.equal(missing.ok, false);
  });

  it('LwM2M Core §6.3.3: write replace (text/plain) and partial update, then read back', async () => {
    const w = await server.write('wak-1', '/3/0/14', [{ path: '/3/0/14', value: '+02:00' }], 'replace', ContentFormat.TEXT);
    assert.equal(w.code, '2.04');
    const u = await server.write('wak-1', '/3/0', [{ path: '/3/0/15', value: 'Europe/Paris' }], 'update');
    assert.equal(u.code, '2.04');
    const r = await server.read('wak-1', '/3/0/15');
    assert.equal(r.content?.[0]?.value, 'Europe/Paris');
    const ro = await server.write('wak-1', '/3/0/0', [{ path: '/3/0/0', value: 'x' }], 'replace', ContentFormat.TEXT);
    assert.equal(ro.code, '4.05');
  });

  it('LwM2M Core §6.3.5: execute with arguments reaches the device', async () => {
    const executed = new Promise((resolve) => devicesByName.get('wak-1')!.on('executed', resolve));
    const r = await server.execute('wak-1', '/3/0/4', "0='now'");
    assert.equal(r.code, '2.04');
    assert.equal(r.codeName, 'changed');
    assert.deepEqual(await executed, { path: '/3/0/4', args: "0='now'" });
  });

  it('LwM2M Core §6.3.2: discover lists instances, resources and written attributes', async () => {
    const a = await server.writeAttributes('wak-1', '/3/0/9', { pmin: 5, pmax: 60 });
    assert.equal(a.code, '2.04');
    const r = await server.discover('wak-1', '/3/0');
    assert.equal(r.code, '2.05');
    assert.ok(r.links!.includes('</3/0>'));
    assert.ok(r.links!.includes('</3/0/9>;pmin=5;pmax=60'), r.links!.join(','));
    assert.ok(r.links!.includes('</3/0/7>;dim=2'));
    const c = await server.writeAttributes('wak-1', '/3/0/9', { pmin: null, pmax: null });
    assert.equal(c.code, '2.04');
    const r2 = await server.discover('wak-1', '/3/0/9');
    assert.deepEqual(r2.links, ['</3/0/9>']);
  });

  it('LwM2M Core §6.3.6/§6.3.7: create reports the new instance, delete removes it', async () => {
    const c = await server.create('wak-1', '/31024', [{ path: '/31024/20/1', value: 'twenty' }], 20, ContentFormat.SENML_JSON);
    assert.equal(c.code, '2.01');
    assert.equal(c.location, '/31024/20');
    const r = await server.read('wak-1', '/31024/20');
    assert.equal(r.content?.[0]?.value, 'twenty');
    const del = await server.delete('wak-1', '/31024/20');
    assert.equal(del.code, '2.02');
    assert.equal((await server.read('wak-1', '/31024/20')).code, '4.04');
  });

  it('LwM2M Core §6.4.1: observe delivers notifications on change; active cancel stops them', async () => {
    const obs = await server.observe('wak-1', '/3/0/9');
    assert.equal(obs.code, '2.05');
    assert.ok(obs.observationId);
    const n = once(server, 'notification', (e) => e.observationId === obs.observationId);
    devicesByName.get('wak-1')!.setValue('/3/0/9', 42);
    const ev = await n;
    assert.equal(ev.endpoint, 'wak-1');
    assert.deepEqual(ev.paths, ['/3/0/9']);
    assert.equal(ev.content?.[0]?.value, 42);
    assert.equal(typeof ev.seqNum, 'number');
    const c = await server.cancelObservation('wak-1', obs.observationId!);
    assert.equal(c.code, '2.05');
    assert.equal(devicesByName.get('wak-1')!.observationCount, 0);
    assert.equal(server.listObservations('wak-1').length, 0);
  });

  it('LwM2M Core §6.3.8/§6.3.9: read-composite and write-composite (SenML JSON)', async () => {
    const r = await server.readComposite('wak-1', ['/3/0/0', '/31024/10/1']);
    assert.equal(r.code, '2.05');
    assert.deepEqual(
      r.content!.map((v) => [v.path, v.value]),
      [
        ['/3/0/0', 'Open Mobile Alliance'],
        ['/31024/10/1', 'ten'],
      ],
    );
    const w = await server.writeComposite('wak-1', [{ path: '/31024/11/1', value: 'ELEVEN' }, { path: '/3/0/14', value: '+03:00' }]);
    assert.equal(w.code, '2.04');
    assert.equal((await server.read('wak-1', '/31024/11/1')).content?.[0]?.value, 'ELEVEN');
  });

  it('LwM2M Core §6.4.3: Send (POST /dp) is published as a send event', async () => {
    const ev = once(server, 'send');
    const res = await devicesByName.get('wak-1')!.send(['/3/0/9'], ContentFormat.SENML_JSON);
    assert.equal(res.code, '2.04');
    const e = await ev;
    assert.equal(e.registration.endpoint, 'wak-1');
    assert.deepEqual(e.content.map((v) => v.path), ['/3/0/9']);
  });

  it('LwM2M Core §6.2.1: 1.0 (TLV) and 1.2 (SenML CBOR) clients register and are read in their formats', async () => {
    const d10 = await device(basicProfile('basic-10', '1.0'));
    const d12 = await device(basicProfile('basic-12', '1.2'));
    assert.equal((await d10.register()).code, '2.01');
    assert.equal((await d12.register()).code, '2.01');
    const r10 = await server.read('basic-10', '/3303/0');
    assert.equal(r10.contentFormat, ContentFormat.TLV);
    assert.equal(r10.content!.find((v) => v.path === '/3303/0/5700')?.value, 21.5);
    // LwM2M 1.0 Create in TLV: the instance id travels in the Object Instance TLV.
    const c10 = await server.create('basic-10', '/3303', [{ path: '/3303/5/5750', value: 'Garage' }], 5);
    assert.equal(c10.code, '2.01');
    assert.equal(c10.location, '/3303/5');
    assert.equal((await server.read('basic-10', '/3303/5/5750')).content?.[0]?.value, 'Garage');
    const r12 = await server.read('basic-12', '/3303/0');
    assert.equal(r12.contentFormat, ContentFormat.SENML_CBOR);
    assert.equal(r12.content!.find((v) => v.path === '/3303/0/5701')?.value, 'Cel');
  });

  it('LwM2M Core §6.2.1: the same endpoint registering from a new UDP port replaces its registration; requests follow it', async () => {
    const a = await device(basicProfile('mover', '1.1'));
    assert.equal((await a.register()).code, '2.01');
    const first = (await server.getRegistration('mover'))!;
    const b = new SimulatedDevice({ ...basicProfile('mover', '1.1'), server: serverEp.address() });
    devices.push(await startDevice(b));
    const replaced = once(server, 'deregistered');
    assert.equal((await b.register()).code, '2.01');
    const ev = await replaced;
    assert.equal(ev.reason, 'replaced');
    assert.equal(ev.registration.id, first.id);
    const second = (await server.getRegistration('mover'))!;
    assert.notEqual(second.address.port, first.address.port);
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.on('request', (r) => seenA.push(r.path));
    b.on('request', (r) => seenB.push(r.path));
    b.setValue('/3303/0/5700', 30);
    assert.equal((await server.read('mover', '/3303/0/5700')).content?.[0]?.value, 30);
    assert.deepEqual(seenA, []);
    assert.deepEqual(seenB, ['/3303/0/5700']);
  });

  it('the message log hook sees datagrams in and requests out; a kicked device gets deregistered(kicked)', async () => {
    const log: string[] = [];
    const off = server.on('message', (m) => log.push(`${m.direction} ${m.code}${m.path ? ` ${m.path}` : ''}`));
    await server.read('basic-10', '/3/0/0');
    off();
    assert.ok(log.includes('out GET /3/0/0'), log.join('; '));
    assert.ok(log.some((l) => l.startsWith('in 2.05')), log.join('; '));
    const ev = once(server, 'deregistered');
    assert.equal(await server.deregister('basic-10'), true);
    assert.equal((await ev).reason, 'kicked');
    assert.equal(await server.deregister('basic-10'), false);
    await assert.rejects(server.read('basic-10', '/3/0'), (e: unknown) => (e as { code?: string }).code === 'M2M_LWM2M_NOT_REGISTERED');
  });

  it('LwM2M Core §6.2.2/§6.2.3: update (2.04) and de-register (2.02) with events', async () => {
    const d = devicesByName.get('wak-1')!;
    const up = once(server, 'updated');
    assert.equal((await d.update({ lifetime: 120 })).code, '2.04');
    assert.equal((await up).registration.lifetime, 120);
    const de = once(server, 'deregistered');
    assert.equal((await d.deregister()).code, '2.02');
    const e = await de;
    assert.equal(e.reason, 'deregister');
    assert.equal(await server.getRegistration('wak-1'), undefined);
    await assert.rejects(server.read('wak-1', '/3/0'), (e: unknown) => (e as { code?: string }).code === 'M2M_LWM2M_NOT_REGISTERED');
  });
});
