import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBroker } from '@m2mhub/broker';
import { silentLogger, systemRandom, systemScheduler, TypedEmitter } from '@m2mhub/core';
import { createMemoryStore } from '@m2mhub/store';
import {
  checkTemplate,
  expandTopic,
  type Gateway,
  type GatewayContext,
  type GatewayEvents,
  type GatewayFactory,
  GatewayManager,
  GatewayRegistry,
  topicMatches,
} from '../src/index';

const ph = (name: string) => `$${'{'}${name}}`;

/**
 * A second, minimal gateway written only against the plugin interface: it answers every
 * `echo/<id>/in` publish on `echo/<id>/out`. It shows a gateway is added by registering a
 * factory, without changing the hub.
 */
interface EchoConfig {
  prefix: string;
}
const echoFactory: GatewayFactory<EchoConfig> = {
  name: 'echo',
  defaults: () => ({ prefix: 'echo' }),
  parseConfig(raw) {
    const c = { ...this.defaults(), ...(raw as Partial<EchoConfig>) };
    if (typeof c.prefix !== 'string' || c.prefix === '') throw new Error('echo.prefix: a topic level');
    return c;
  },
  create(ctx: GatewayContext<EchoConfig>): Gateway {
    let unsub: (() => Promise<void>) | undefined;
    const seen = new Set<string>();
    let inCount = 0;
    const gw: Gateway = {
      name: ctx.name,
      get enabled() {
        return unsub !== undefined;
      },
      async start() {
        await gw.enable();
      },
      async stop() {
        await gw.disable();
      },
      async enable() {
        unsub = await ctx.broker.subscribe(`${ctx.config.prefix}/+/in`, async (m) => {
          const id = m.topic.split('/')[1]!;
          seen.add(id);
          inCount++;
          await ctx.broker.publish(`${ctx.config.prefix}/${id}/out`, m.payload);
          ctx.events.emit('event', { gateway: ctx.name, type: 'echo', clientId: id, at: ctx.scheduler.wallNow() });
        });
      },
      async disable() {
        await unsub?.();
        unsub = undefined;
      },
      clients: () => ({ data: [...seen].map((id) => ({ clientid: id, proto_name: 'echo', ip_address: '', port: 0, connected: true, connected_at: '' })), count: seen.size }),
      client: (id) => (seen.has(id) ? { clientid: id, proto_name: 'echo', ip_address: '', port: 0, connected: true, connected_at: '' } : undefined),
      kick: async (id) => seen.delete(id),
      stats: () => ({ clients: seen.size, messages_in: inCount, messages_out: inCount }),
      listeners: () => [],
    };
    return gw;
  },
};

describe('gateway plugin interface', () => {
  it('a second gateway runs through the registry and manager, using only the context it is given', async () => {
    const broker = await createBroker({ listeners: [], persistence: { kind: 'memory' }, sysIntervalMs: 0 });
    const store = createMemoryStore();
    await store.open();
    const events = new TypedEmitter<GatewayEvents>();
    const registry = new GatewayRegistry().register(echoFactory);
    assert.throws(() => registry.register(echoFactory), /already registered/);
    assert.deepEqual(registry.names(), ['echo']);
    const manager = new GatewayManager(
      registry,
      <C>(name: string, config: C): GatewayContext<C> => ({
        name,
        config,
        broker,
        store,
        events,
        logger: silentLogger,
        scheduler: systemScheduler,
        random: systemRandom,
        dataDir: '/nonexistent',
        routes: { add() {} },
      }),
      silentLogger,
    );
    await assert.rejects(manager.start('coap', {}), /no gateway with that name/);
    await assert.rejects(manager.start('echo', { prefix: '' }), /echo.prefix/);
    const gw = await manager.start('echo', { prefix: 'e' });
    const got: string[] = [];
    const seenEvents: string[] = [];
    events.on('event', (e) => seenEvents.push(`${e.type}:${e.clientId}`));
    await broker.subscribe('e/+/out', (m) => {
      got.push(`${m.topic} ${m.payload.toString()}`);
    });
    await broker.publish('e/dev1/in', 'hello');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ['e/dev1/out hello']);
    assert.deepEqual(seenEvents, ['echo:dev1']);
    assert.equal(gw.clients().count, 1);
    assert.equal(gw.stats().messages_in, 1);
    await gw.disable();
    assert.equal(gw.enabled, false);
    await broker.publish('e/dev2/in', 'ignored');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, 1);
    await gw.enable();
    assert.equal(await gw.kick('dev1'), true);
    assert.equal(manager.list().length, 1);
    await manager.stopAll();
    assert.equal(manager.list().length, 0);
    await broker.stop();
    await store.close();
  });

  it('MQTT 3.1.1 §4.7: filter matching with + and #, $ topics excluded from wildcards', () => {
    assert.ok(topicMatches('dn/+/#', 'dn/a'));
    assert.ok(topicMatches('dn/+/#', 'dn/a/b/c'));
    assert.ok(!topicMatches('dn/+/#', 'dn'));
    assert.ok(topicMatches('#', 'a/b'));
    assert.ok(!topicMatches('#', '$SYS/x'));
    assert.ok(!topicMatches('+/x', '$SYS/x'));
    assert.ok(!topicMatches('a/+', 'a/b/c'));
  });

  it('topic templates: EMQX placeholders filled, wildcards and separators in values neutralised, unknown placeholders refused', () => {
    assert.equal(expandTopic(`lwm2m/${ph('endpoint_name')}/up/${ph('clientid')}`, { endpoint_name: 'ep1', clientid: 'c1' }), 'lwm2m/ep1/up/c1');
    assert.equal(expandTopic(`dn/${ph('endpoint_name')}`, { endpoint_name: 'a/+#' }), 'dn/a___');
    assert.doesNotThrow(() => checkTemplate(`x/${ph('username')}`));
    assert.throws(() => checkTemplate(`x/${ph('password')}`), /unknown placeholder/);
  });
});
