import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UdpTransport } from '@m2mhub/coap';
import type { PeerAddress } from '@m2mhub/core';
import {
  BootstrapServer,
  ContentFormat,
  DEFAULT_REGISTER_LIMITS,
  type Lwm2mServerEvents,
  createBootstrapEndpoint,
  createLwm2mServer,
  createServerEndpoint,
} from '@m2mhub/lwm2m';
import { EXEC, ObjectTree, SimulatedDevice, basicProfile, startDevice } from '../src/index';

const udp = () => new UdpTransport({ address: '127.0.0.1', port: 0 });

describe('simulated devices: queue mode and bootstrap over UDP 127.0.0.1', () => {
  it('LwM2M Core §6.5.4: a sleeping device gets its queued requests, in order, when it wakes with an Update', async () => {
    const server = createLwm2mServer({ config: { awakeWindowMs: 300 } });
    const ep = createServerEndpoint(server, { transport: udp() });
    await ep.start();
    const dev = new SimulatedDevice({ ...basicProfile('sleeper', '1.1'), queueMode: true, server: ep.address() });
    const dep = await startDevice(dev);
    try {
      const sleeping = new Promise((r) => server.on('sleeping', r));
      assert.equal((await dev.register()).code, '2.01');
      assert.equal((await server.getRegistration('sleeper'))?.queueMode, true);
      await sleeping;
      dev.sleep();
      const seen: string[] = [];
      dev.on('request', (r) => seen.push(`${r.method} ${r.path}`));
      const queued: string[] = [];
      const p1 = server.read('sleeper', '/3303/0/5700', undefined, { onQueued: (i) => queued.push(i.request.kind) });
      const p2 = server.write('sleeper', '/3303/0/5750', [{ path: '/3303/0/5750', value: 'Indoor' }], 'replace', ContentFormat.TEXT, {
        onQueued: (i) => queued.push(i.request.kind),
      });
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(queued, ['read', 'write']);
      assert.deepEqual(seen, []);
      const awake = new Promise<Lwm2mServerEvents['awake']>((r) => server.on('awake', r));
      assert.equal((await dev.wake()).code, '2.04');
      assert.equal((await awake).endpoint, 'sleeper');
      const [r1, r2] = await Promise.all([p1, p2]);
      assert.equal(r1.content?.[0]?.value, 21.5);
      assert.equal(r2.code, '2.04');
      assert.deepEqual(seen, ['GET /3303/0/5700', 'PUT /3303/0/5750']);
    } finally {
      await dep.close();
      await ep.close();
      await server.close();
    }
  });

  it('LwM2M Core §6.1: a device bootstraps (Delete, Write /0 and /1 with PSK, Finish), then registers with the written server', async () => {
    const server = createLwm2mServer();
    const ep = createServerEndpoint(server, { transport: udp() });
    await ep.start();
    const bs = new BootstrapServer();
    const bep = createBootstrapEndpoint(bs, { transport: udp() });
    await bep.start();
    const hub = ep.address();
    await bs.configs.put({
      endpoint: 'fresh-1',
      servers: [
        {
          uri: `coap://127.0.0.1:${hub.port}`,
          securityMode: 'psk',
          pskIdentity: 'fresh-1-id',
          pskKey: new Uint8Array([1, 2, 3, 4]),
          shortServerId: 101,
          lifetime: 120,
          binding: 'U',
        },
      ],
    });
    const tree = ObjectTree.from({
      0: { 0: { 0: `coap://127.0.0.1:${bep.address().port}`, 1: true, 2: 3, 10: 0 } },
      1: { 0: { 0: 1, 1: 60, 7: 'U', 8: EXEC } },
      3: { 0: { 0: 'Acme', 9: 80 } },
    });
    const dev = new SimulatedDevice({ endpoint: 'fresh-1', tree, server: bep.address(), lwm2mVersion: '1.1' });
    const dep = await startDevice(dev);
    try {
      const steps: string[] = [];
      let discovered = '';
      bs.on('bootstrapStep', (s) => {
        steps.push(`${s.step} ${s.path} ${s.code}`);
        if (s.links) discovered = s.links;
      });
      const finished = new Promise((r) => bs.on('bootstrapFinished', r));
      await dev.bootstrap(bep.address());
      await finished;
      assert.deepEqual(steps, ['discover / 2.05', 'delete /0 2.02', 'delete /1 2.02', 'write /0/1 2.04', 'write /1/1 2.04', 'finish /bs 2.04']);
      // LwM2M Core 1.1 Bootstrap-Discover: saw the enabler version and the bootstrap account.
      assert.match(discovered, /^<\/>;lwm2m=1\.1,<\/0\/0>,<\/1\/0>;ssid=1,<\/3\/0>$/);
      // The bootstrap account survived Bootstrap-Delete; the new account is there.
      assert.equal(dev.tree.instance(0, 0)?.get(1), true);
      const account = dev.serverAccount()!;
      assert.deepEqual(account, { uri: `coap://127.0.0.1:${hub.port}`, shortServerId: 101, lifetime: 120, binding: 'U', pskIdentity: 'fresh-1-id' });
      assert.deepEqual(dev.tree.instance(0, 1)?.get(5), new Uint8Array([1, 2, 3, 4]));
      const port = Number(new URL(account.uri).port);
      const target: PeerAddress = { address: '127.0.0.1', port, family: 'IPv4' };
      dev.setServer(target);
      dev.lifetime = account.lifetime!;
      assert.equal((await dev.register()).code, '2.01');
      const reg = await server.getRegistration('fresh-1');
      assert.equal(reg?.lifetime, 120);
      assert.deepEqual(reg?.objects.find((o) => o.id === 0)?.instances, [0, 1]);
    } finally {
      await dep.close();
      await bep.close();
      await ep.close();
      await server.close();
    }
  });

  it('LwM2M Transport §6.4.3: a 1.2 client retries with 1.1 after 4.12 from a 1.0/1.1-only server (Anjay behaviour)', async () => {
    const server = createLwm2mServer({ config: { register: { ...DEFAULT_REGISTER_LIMITS, versions: ['1.0', '1.1'] } } });
    const ep = createServerEndpoint(server, { transport: udp() });
    await ep.start();
    const dev = new SimulatedDevice({ ...basicProfile('anjay-like', '1.2'), fallbackVersions: ['1.1'], server: ep.address() });
    const dep = await startDevice(dev);
    try {
      assert.equal((await dev.register()).code, '2.01');
      assert.equal(dev.lwm2mVersion, '1.1');
      assert.equal((await server.getRegistration('anjay-like'))?.lwm2mVersion, '1.1');
    } finally {
      await dep.close();
      await ep.close();
      await server.close();
    }
  });

  it('LwM2M Core §6.1.3: a bootstrap request for an unknown endpoint -> 4.00; without ep -> 4.00', async () => {
    const bs = new BootstrapServer();
    const bep = createBootstrapEndpoint(bs, { transport: udp() });
    await bep.start();
    const dev = new SimulatedDevice({ ...basicProfile('unknown-bs'), server: bep.address() });
    const dep = await startDevice(dev);
    try {
      await assert.rejects(dev.bootstrap(bep.address()), /4\.00/);
    } finally {
      await dep.close();
      await bep.close();
    }
  });
});
