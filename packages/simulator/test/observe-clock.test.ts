import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryNetwork } from '@m2mhub/coap';
import { FakeScheduler, SeededRandom } from '@m2mhub/core/testing';
import { ContentFormat, type NotificationEvent, createLwm2mServer, createServerEndpoint } from '@m2mhub/lwm2m';
import { SimulatedDevice, basicProfile, startDevice } from '../src/index';

async function pump(clock: FakeScheduler, steps = 20): Promise<void> {
  for (let i = 0; i < steps; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(1);
  }
}
async function call<T>(clock: FakeScheduler, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => undefined);
  for (let i = 0; i < 500 && !done; i++) await pump(clock, 1);
  return p;
}

async function setup() {
  const clock = new FakeScheduler();
  const random = new SeededRandom(3);
  const net = new MemoryNetwork(clock, random);
  const server = createLwm2mServer({ scheduler: clock, random, defer: (fn) => queueMicrotask(fn) });
  const ep = createServerEndpoint(server, { transport: net.transport('10.0.0.1'), scheduler: clock, random });
  await ep.start();
  const dev = new SimulatedDevice({ ...basicProfile('obs-1', '1.1'), server: ep.address(), scheduler: clock });
  const dep = await startDevice(dev, { transport: net.transport('10.0.0.2'), scheduler: clock, random });
  assert.equal((await call(clock, dev.register())).code, '2.01');
  const notes: NotificationEvent[] = [];
  server.on('notification', (n) => notes.push(n));
  const close = async () => {
    dev.close();
    await dep.close();
    await ep.close();
    await server.close();
  };
  return { clock, server, dev, notes, close };
}

describe('observe with notification attributes, fake clock', () => {
  it('LwM2M Core §5.1.2: pmin holds back a change until pmin passed; pmax sends without a change', async () => {
    const t = await setup();
    const wa = await call(t.clock, t.server.writeAttributes('obs-1', '/3303/0/5700', { pmin: 10, pmax: 60 }));
    assert.equal(wa.code, '2.04');
    const obs = await call(t.clock, t.server.observe('obs-1', '/3303/0/5700'));
    assert.equal(obs.content?.[0]?.value, 21.5);
    t.clock.advance(1_000);
    t.dev.setValue('/3303/0/5700', 22);
    await pump(t.clock);
    assert.equal(t.notes.length, 0, 'held back by pmin');
    t.clock.advance(9_000);
    await pump(t.clock);
    assert.equal(t.notes.length, 1);
    assert.equal(t.notes[0]!.content?.[0]?.value, 22);
    // No change: the next notification comes at pmax after the last one.
    t.clock.advance(59_000);
    await pump(t.clock);
    assert.equal(t.notes.length, 1);
    t.clock.advance(1_000);
    await pump(t.clock);
    assert.equal(t.notes.length, 2);
    assert.ok(t.notes[1]!.seqNum! > t.notes[0]!.seqNum!);
    await t.close();
  });

  it('LwM2M Core §5.1.2: gt/lt notify on crossing a threshold, st on a big enough step', async () => {
    const t = await setup();
    await call(t.clock, t.server.writeAttributes('obs-1', '/3303/0/5700', { gt: 30, st: 5 }));
    await call(t.clock, t.server.observe('obs-1', '/3303/0/5700'));
    t.dev.setValue('/3303/0/5700', 23); // +1.5: no crossing, below st
    await pump(t.clock);
    assert.equal(t.notes.length, 0);
    t.dev.setValue('/3303/0/5700', 31); // crosses gt=30
    await pump(t.clock);
    assert.equal(t.notes.length, 1);
    t.dev.setValue('/3303/0/5700', 37); // step of 6 >= st
    await pump(t.clock);
    assert.equal(t.notes.length, 2);
    await t.close();
  });

  it('LwM2M Core §6.4.2: observe-composite notifies the listed paths; passive cancel drops later notifications', async () => {
    const t = await setup();
    const obs = await call(t.clock, t.server.observeComposite('obs-1', ['/3303/0/5700', '/3/0/9'], ContentFormat.SENML_JSON));
    assert.equal(obs.code, '2.05');
    assert.deepEqual(
      obs.content?.map((v) => v.path),
      ['/3303/0/5700', '/3/0/9'],
    );
    t.dev.setValue('/3/0/9', 50);
    await pump(t.clock);
    assert.equal(t.notes.length, 1);
    assert.equal(t.notes[0]!.composite, true);
    assert.equal(t.notes[0]!.content?.find((v) => v.path === '/3/0/9')?.value, 50);
    const c = await call(t.clock, t.server.cancelObservation('obs-1', obs.observationId!, 'passive'));
    assert.equal(c.ok, true);
    t.dev.setValue('/3/0/9', 40);
    await pump(t.clock);
    assert.equal(t.notes.length, 1, 'no event after passive cancel');
    // RFC 7641 §3.6: the server answered that notification with RST, so the device stopped.
    assert.equal(t.dev.observationCount, 0);
    await t.close();
  });
});
