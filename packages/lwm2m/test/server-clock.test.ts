import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClientRequest, type ClientResponse, CoapEndpoint, type IncomingRequest, MemoryNetwork, type OutgoingResponse } from '@m2mhub/coap';
import type { PeerAddress } from '@m2mhub/core';
import { FakeScheduler, SeededRandom } from '@m2mhub/core/testing';
import {
  ContentFormat,
  InMemoryObservationStore,
  InMemoryRegistrationStore,
  InMemoryRequestQueueStore,
  type Lwm2mServerConfig,
  type Lwm2mServerEvents,
  createLwm2mServer,
  createServerEndpoint,
} from '../src/index';

/** Fake-clock tests over the in-memory datagram network: lifetimes, queue mode, restart. */
const SERVER: PeerAddress = { address: '10.0.0.1', port: 5683, family: 'IPv4' };

function setup(config: Partial<Lwm2mServerConfig> = {}) {
  const clock = new FakeScheduler();
  const random = new SeededRandom(7);
  const net = new MemoryNetwork(clock, random);
  const stores = {
    registrationStore: new InMemoryRegistrationStore(),
    observationStore: new InMemoryObservationStore(),
    queueStore: new InMemoryRequestQueueStore(),
  };
  const events: { name: string; ev: unknown }[] = [];
  const makeServer = () => {
    const server = createLwm2mServer({ ...stores, scheduler: clock, random, config, defer: (fn) => queueMicrotask(fn) });
    for (const n of ['registered', 'updated', 'deregistered', 'sleeping', 'awake', 'notification', 'queued', 'queueResult'] as const) {
      server.on(n, (ev) => events.push({ name: n, ev }));
    }
    const ep = createServerEndpoint(server, { transport: net.transport(SERVER.address, SERVER.port), scheduler: clock, random });
    return { server, ep };
  };
  return { clock, random, net, stores, events, makeServer };
}

/** Lets datagrams travel (1 ms latency) and promises settle. */
async function pump(clock: FakeScheduler, steps = 30): Promise<void> {
  for (let i = 0; i < steps; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(1);
  }
  await new Promise((r) => setImmediate(r));
}

async function call<T>(clock: FakeScheduler, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => {
    done = true;
  }).catch(() => undefined);
  for (let i = 0; i < 500 && !done; i++) await pump(clock, 1);
  return p;
}

function device(net: MemoryNetwork, clock: FakeScheduler, random: SeededRandom, address: string, port = 5683) {
  const ep = new CoapEndpoint({ transport: net.transport(address, port), scheduler: clock, random });
  const seen: string[] = [];
  let handler = (req: IncomingRequest): OutgoingResponse => {
    seen.push(`${req.method} /${req.path.join('/')}`);
    if (req.method === 'GET' && req.path.join('/') === '3/0/0') return { code: '2.05', contentFormat: ContentFormat.TEXT, payload: new TextEncoder().encode('Acme') };
    return { code: '4.04' };
  };
  ep.fallback((req) => handler(req));
  return {
    ep,
    seen,
    setHandler(h: (req: IncomingRequest) => OutgoingResponse) {
      handler = h;
    },
    req(r: ClientRequest): Promise<ClientResponse> {
      return ep.request(SERVER, r);
    },
  };
}

const links = (s: string) => new TextEncoder().encode(s);
function named<K extends keyof Lwm2mServerEvents>(events: { name: string; ev: unknown }[], name: K): Lwm2mServerEvents[K][] {
  return events.filter((e) => e.name === name).map((e) => e.ev as Lwm2mServerEvents[K]);
}

describe('LwM2M server with a fake clock', () => {
  it('LwM2M Core §6.2.1: a registration expires after lifetime + grace; an Update before that extends it', async () => {
    const t = setup({ expiryGraceMs: 2000 });
    const { server, ep } = t.makeServer();
    await ep.start();
    const d = device(t.net, t.clock, t.random, '10.0.0.2');
    await d.ep.start();
    const r = await call(t.clock, d.req({ method: 'POST', path: ['rd'], query: ['ep=exp-1', 'lt=60', 'lwm2m=1.1'], contentFormat: 40, payload: links('</3/0>') }));
    assert.equal(r.code, '2.01');
    const loc = r.options.filter((o) => o.number === 8).map((o) => Buffer.from(o.value).toString());
    t.clock.advance(50_000);
    const u = await call(t.clock, d.req({ method: 'POST', path: loc }));
    assert.equal(u.code, '2.04');
    t.clock.advance(50_000); // 100 s after register, 50 s after the update: still registered
    await pump(t.clock);
    assert.ok(await server.getRegistration('exp-1'));
    t.clock.advance(11_500); // 61.5 s after the update: inside the grace
    await pump(t.clock);
    assert.ok(await server.getRegistration('exp-1'));
    t.clock.advance(1_000);
    await pump(t.clock);
    assert.equal(await server.getRegistration('exp-1'), undefined);
    const ends = named(t.events, 'deregistered');
    assert.equal(ends.length, 1);
    assert.equal(ends[0]!.reason, 'expired');
    await ep.close();
    await d.ep.close();
    await server.close();
  });

  it('LwM2M Core §6.2.1: re-registration of an endpoint from a new port replaces the old registration', async () => {
    const t = setup();
    const { server, ep } = t.makeServer();
    await ep.start();
    const a = device(t.net, t.clock, t.random, '10.0.0.3', 40001);
    const b = device(t.net, t.clock, t.random, '10.0.0.3', 40002);
    await a.ep.start();
    await b.ep.start();
    const reg = { method: 'POST' as const, path: ['rd'], query: ['ep=moving', 'lwm2m=1.1'], contentFormat: 40, payload: links('</3/0>') };
    assert.equal((await call(t.clock, a.req(reg))).code, '2.01');
    const first = (await server.getRegistration('moving'))!;
    assert.equal((await call(t.clock, b.req(reg))).code, '2.01');
    await pump(t.clock);
    const second = (await server.getRegistration('moving'))!;
    assert.notEqual(second.id, first.id);
    assert.equal(second.address.port, 40002);
    const ends = named(t.events, 'deregistered');
    assert.deepEqual(
      ends.map((e) => [e.registration.id, e.reason]),
      [[first.id, 'replaced']],
    );
    // Requests now reach the new address.
    const r = await call(t.clock, server.read('moving', '/3/0/0'));
    assert.equal(r.content?.[0]?.value, 'Acme');
    assert.deepEqual(a.seen, []);
    assert.deepEqual(b.seen, ['GET /3/0/0']);
    await Promise.all([ep.close(), a.ep.close(), b.ep.close(), server.close()]);
  });

  it('LwM2M Core §6.5.4 queue mode: requests wait while the device sleeps and go out in order when it wakes', async () => {
    const t = setup({ awakeWindowMs: 93_000 });
    const { server, ep } = t.makeServer();
    await ep.start();
    const d = device(t.net, t.clock, t.random, '10.0.0.4');
    await d.ep.start();
    const r = await call(t.clock, d.req({ method: 'POST', path: ['rd'], query: ['ep=sleepy', 'lwm2m=1.0', 'b=UQ', 'lt=86400'], contentFormat: 40, payload: links('</3/0>') }));
    assert.equal(r.code, '2.01');
    const loc = r.options.filter((o) => o.number === 8).map((o) => Buffer.from(o.value).toString());
    await pump(t.clock);
    assert.equal(named(t.events, 'awake').length, 1);
    assert.ok(server.isAwake('sleepy'));
    t.clock.advance(93_000);
    await pump(t.clock);
    assert.equal(named(t.events, 'sleeping').length, 1);
    assert.equal(server.isAwake('sleepy'), false);
    // Two requests while asleep: queued, nothing sent.
    const queued: string[] = [];
    const p1 = server.read('sleepy', '/3/0/0', undefined, { onQueued: (i) => queued.push(i.id), tag: { reqID: 1 } });
    const p2 = server.execute('sleepy', '/3/0/4', undefined, { tag: { reqID: 2 } });
    await pump(t.clock);
    assert.equal(queued.length, 1);
    assert.equal(named(t.events, 'queued').length, 2);
    assert.deepEqual(d.seen, []);
    // The device wakes with an Update: the queue is flushed in order.
    d.setHandler((req) => {
      d.seen.push(`${req.method} /${req.path.join('/')}`);
      if (req.method === 'POST') return { code: '2.04' };
      return { code: '2.05', contentFormat: ContentFormat.TEXT, payload: new TextEncoder().encode('Acme') };
    });
    assert.equal((await call(t.clock, d.req({ method: 'POST', path: loc }))).code, '2.04');
    const [r1, r2] = await call(t.clock, Promise.all([p1, p2]));
    assert.equal(r1.content?.[0]?.value, 'Acme');
    assert.equal(r2.code, '2.04');
    assert.deepEqual(d.seen, ['GET /3/0/0', 'POST /3/0/4']);
    assert.deepEqual(
      named(t.events, 'queueResult').map((e) => [e.item.tag, e.response?.code]),
      [
        [{ reqID: 1 }, '2.05'],
        [{ reqID: 2 }, '2.04'],
      ],
    );
    await Promise.all([ep.close(), d.ep.close(), server.close()]);
  });

  it('LwM2M Core §6.5.4 queue mode: a full queue is a typed error; a queued request expires with M2M_LWM2M_QUEUE_EXPIRED', async () => {
    const t = setup({ awakeWindowMs: 1_000, queueMaxRequests: 2, queueRequestTtlMs: 60_000 });
    const { server, ep } = t.makeServer();
    await ep.start();
    const d = device(t.net, t.clock, t.random, '10.0.0.5');
    await d.ep.start();
    await call(t.clock, d.req({ method: 'POST', path: ['rd'], query: ['ep=q2', 'lwm2m=1.1', 'Q'], contentFormat: 40, payload: links('</3/0>') }));
    t.clock.advance(1_000);
    await pump(t.clock);
    assert.equal(server.isAwake('q2'), false);
    const p1 = server.read('q2', '/3/0/0');
    const p2 = server.read('q2', '/3/0/1');
    const failed1 = p1.then(
      () => 'resolved',
      (e: { code: string }) => e.code,
    );
    const failed2 = p2.then(
      () => 'resolved',
      (e: { code: string }) => e.code,
    );
    await pump(t.clock);
    await assert.rejects(server.read('q2', '/3/0/2'), (e: unknown) => (e as { code?: string }).code === 'M2M_LWM2M_QUEUE_FULL');
    t.clock.advance(60_000);
    await pump(t.clock);
    assert.equal(await failed1, 'M2M_LWM2M_QUEUE_EXPIRED');
    assert.equal(await failed2, 'M2M_LWM2M_QUEUE_EXPIRED');
    assert.deepEqual(await t.stores.queueStore.peek('q2'), []);
    await Promise.all([ep.close(), d.ep.close(), server.close()]);
  });

  it('DESIGN.md §5: after a restart a device registered before is read without registering again, and a restored observation still notifies', async () => {
    const t = setup();
    const first = t.makeServer();
    await first.ep.start();
    const d = device(t.net, t.clock, t.random, '10.0.0.6');
    await d.ep.start();
    let observeToken: Uint8Array | undefined;
    d.setHandler((req) => {
      if (req.observe === 0) observeToken = req.message.token;
      return { code: '2.05', contentFormat: ContentFormat.TEXT, payload: new TextEncoder().encode('21.5'), options: req.observe === 0 ? [{ number: 6, value: new Uint8Array([1]) }] : [] };
    });
    assert.equal((await call(t.clock, d.req({ method: 'POST', path: ['rd'], query: ['ep=durable', 'lwm2m=1.1'], contentFormat: 40, payload: links('</3303/0>') }))).code, '2.01');
    const obs = await call(t.clock, first.server.observe('durable', '/3303/0/5700'));
    assert.ok(obs.observationId);
    // Restart: a new server and endpoint over the same stores.
    await first.ep.close();
    await first.server.close();
    const second = t.makeServer();
    await second.server.start();
    await second.ep.start();
    const r = await call(t.clock, second.server.read('durable', '/3303/0/5700'));
    assert.equal(r.code, '2.05');
    assert.equal(r.content?.[0]?.value, 21.5);
    assert.equal(second.server.listObservations('durable').length, 1);
    // The device notifies with the token of the observation made before the restart.
    const { serializeMessage } = await import('@m2mhub/coap');
    const notif = serializeMessage({
      type: 'NON',
      code: '2.05',
      messageId: 999,
      token: observeToken!,
      options: [
        { number: 6, value: new Uint8Array([2]) },
        { number: 12, value: new Uint8Array([]) },
      ],
      payload: new TextEncoder().encode('22.5'),
    });
    const before = named(t.events, 'notification').length;
    d.ep.transport.send(notif, SERVER);
    await pump(t.clock);
    const notes = named(t.events, 'notification').slice(before);
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.observationId, obs.observationId);
    assert.equal(notes[0]!.content?.[0]?.value, 22.5);
    assert.equal(notes[0]!.seqNum, 2);
    await Promise.all([second.ep.close(), d.ep.close(), second.server.close()]);
  });
});
