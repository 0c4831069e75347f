/**
 * Protocol gateways started by the hub (DESIGN.md §2 layer 7). The hub knows gateways only
 * through `@m2mhub/gateway`: a registry of factories by name, each given a context (the broker
 * as an in-process client, the store, its config, the event bus, a logger, a scheduler and a
 * way to add admin API routes). A second gateway is one more `registry.register(...)`.
 */
import { resolve } from 'node:path';
import type { ApiPlugin } from '@m2mhub/admin-api';
import { TypedEmitter } from '@m2mhub/core';
import { type GatewayContext, type GatewayEvents, GatewayManager, GatewayRegistry, type GatewayRoute } from '@m2mhub/gateway';
import { lwm2mGatewayFactory } from '@m2mhub/gateway-lwm2m';
import type { HubConfig } from './config/index';
import type { HubContext, ListenerStatus } from './context';

type App = Parameters<ApiPlugin['plugin']>[0];

/** The registry of every gateway this build knows. */
export function gatewayRegistry(): GatewayRegistry {
  return new GatewayRegistry().register(lwm2mGatewayFactory());
}

function fromCwd(p: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

/** The hub's `lwm2m` section as the LwM2M gateway's (EMQX-named) config. */
export function lwm2mGatewayConfig(c: HubConfig['lwm2m']): Record<string, unknown> {
  const { udp, dtls, sensitive_params, xml_dir, ...rest } = c;
  return {
    ...rest,
    ...(xml_dir ? { xml_dir } : {}),
    sensitive_params: sensitive_params.split(',').map((s) => s.trim()).filter(Boolean),
    enable: udp.enabled || dtls.enabled,
    udp: { enable: udp.enabled, bind: udp.bind, port: udp.port },
    dtls: {
      enable: dtls.enabled,
      bind: dtls.bind,
      port: dtls.port,
      // Issue #4: relative paths from where m2mhub was started (as main.ts resolves its cwd).
      ...(dtls.certfile ? { certfile: fromCwd(dtls.certfile) } : {}),
      ...(dtls.keyfile ? { keyfile: fromCwd(dtls.keyfile) } : {}),
      ...(dtls.cacertfile ? { cacertfile: fromCwd(dtls.cacertfile) } : {}),
      // Issue #4: the DTLS limits (validated again by the gateway's parseConfig).
      max_handshakes: dtls.max_handshakes,
      max_sessions: dtls.max_sessions,
      handshake_timeout: dtls.handshake_timeout,
      idle_timeout: dtls.idle_timeout,
    },
  };
}

/** Fastify plugin serving a gateway's routes under /api/v5/gateways/<name>. */
function routesPlugin(routes: GatewayRoute[]): ApiPlugin['plugin'] {
  return async (app: App) => {
    // Text bodies (issue #5: object XML) are handed over as strings, bounded per route by its bodyLimit.
    const textTypes = [...new Set(routes.flatMap((r) => r.textBody?.types ?? []))];
    if (textTypes.length > 0) {
      const limit = Math.max(...routes.map((r) => r.textBody?.maxBytes ?? 0));
      app.addContentTypeParser(textTypes, { parseAs: 'string', bodyLimit: limit }, (_req, body, done) => done(null, body));
    }
    for (const r of routes) {
      app.route({
        method: r.method,
        url: r.url,
        ...(r.summary ? { schema: { summary: r.summary } } : {}),
        ...(r.textBody ? { bodyLimit: r.textBody.maxBytes } : {}),
        handler: async (req, reply) => {
          const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
          const res = await r.handler({
            params: (req.params ?? {}) as Record<string, string>,
            query: (req.query ?? {}) as Record<string, string | undefined>,
            body: req.body,
            ...(type ? { contentType: type } : {}),
          });
          reply.code(res.status);
          return res.body === undefined ? reply.send() : reply.send(res.body);
        },
      });
    }
  };
}

export async function startGateways(ctx: HubContext): Promise<{
  stop(): Promise<void>;
  status(): ListenerStatus[];
  manager: GatewayManager;
  /** Every gateway's events (register, update, deregister, sleeping, awake, ...), for the API's live stream. */
  events: TypedEmitter<GatewayEvents>;
}> {
  const events = new TypedEmitter<GatewayEvents>();
  const routesByGateway = new Map<string, GatewayRoute[]>();
  const makeContext = <C>(name: string, config: C): GatewayContext<C> => {
    const routes: GatewayRoute[] = [];
    routesByGateway.set(name, routes);
    return {
      name,
      config,
      broker: ctx.broker,
      store: ctx.store,
      events,
      logger: ctx.logger.child({ gateway: name }),
      scheduler: ctx.scheduler,
      random: ctx.random,
      dataDir: ctx.dataDir,
      routes: { add: (r) => routes.push(r) },
      // DESIGN.md §5: in a cluster a gateway records which node holds each device's session.
      nodeId: ctx.nodeId,
      clustered: ctx.clustered,
    };
  };
  const manager = new GatewayManager(gatewayRegistry(), makeContext, ctx.logger);
  const configs: Record<string, unknown> = { lwm2m: lwm2mGatewayConfig(ctx.config.lwm2m) };
  // EMQX's GET /api/v5/gateways: every gateway this build knows, running or not.
  const registry = gatewayRegistry();
  ctx.registerApiPlugin({
    prefix: '/gateways',
    plugin: routesPlugin([
      {
        method: 'GET',
        url: '',
        summary: 'Gateways (EMQX compatible): name, status, connections, listeners',
        handler: () => ({
          status: 200,
          body: registry.names().map((name) => {
            const gw = manager.get(name);
            return {
              name,
              status: gw?.enabled ? 'running' : 'stopped',
              current_connections: gw?.stats().clients ?? 0,
              listeners: gw?.listeners() ?? [],
            };
          }),
        }),
      },
    ]),
  });
  try {
    for (const [name, raw] of Object.entries(configs)) {
      await manager.start(name, raw);
      const routes = routesByGateway.get(name) ?? [];
      if (routes.length > 0) ctx.registerApiPlugin({ plugin: routesPlugin(routes), prefix: `/gateways/${name}` });
    }
  } catch (err) {
    await manager.stopAll();
    throw err;
  }
  return {
    manager,
    events,
    stop: () => manager.stopAll(),
    status: () =>
      manager.list().flatMap((gw) =>
        gw.listeners().map((l) => {
          const i = l.bind.lastIndexOf(':');
          const s: ListenerStatus = {
            name: `${gw.name}:${l.type}`,
            protocol: gw.name,
            transport: l.type,
            bind: l.bind.slice(0, i),
            port: Number(l.bind.slice(i + 1)),
            enabled: true,
            up: l.running,
          };
          if (l.error !== undefined) s.error = l.error;
          return s;
        }),
      ),
  };
}
