/**
 * The composition root: store, broker (with store-backed users), gateways, REST API.
 * `startHub(config)` is what `main.ts` runs and what tests call with all ports 0.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { ApiAuth, type ApiPlugin, createApiServer, type HubStatus, type ListenerStatus } from '@m2mhub/admin-api';
import { type AclSource, type Broker, createBroker, createRuleAuthProvider, type ListenerSpec, type PersistenceConfig } from '@m2mhub/broker';
import { type Logger, silentLogger, systemRandom, systemScheduler } from '@m2mhub/core';
import { createLevelStore, createMemoryStore, createRedisStore, type Store } from '@m2mhub/store';
import type { HubConfig } from './config/index';
import { resolveNodeId } from './config/node-id';
import type { HubContext } from './context';
import { printAdminBanner } from './admin-banner';
import { HubErrors } from './errors';
import { startGateways } from './gateways';
import { seedUsers, storeAclSource, storeUserSource } from './users';

export const HUB_VERSION = '0.1.0';

export interface HubHandle {
  /** Stops accepting, closes clients, flushes and closes the store. Idempotent. */
  stop(): Promise<void>;
  status(): HubStatus;
  /** Actual bound port per listener name ("mqtt:tcp", "api:http", ...). */
  ports: Record<string, number>;
  context: HubContext;
  broker: Broker;
}

export interface HubDeps {
  logger?: Logger;
  /** Base for a relative data_dir and TLS file paths (default: process.cwd()). */
  cwd?: string;
  /** Where a generated admin password is printed, once, outside the log (default: process.stderr). */
  stderr?: { write(s: string): unknown };
}

function mqttListeners(c: HubConfig['mqtt'], base: string): ListenerSpec[] {
  const out: ListenerSpec[] = [];
  if (c.tcp.enabled) out.push({ name: 'mqtt:tcp', transport: 'tcp', port: c.tcp.port, bind: c.tcp.bind });
  if (c.ws.enabled) out.push({ name: 'mqtt:ws', transport: 'ws', port: c.ws.port, bind: c.ws.bind, path: c.ws.path });
  // DESIGN.md §1: TLS and WSS are on when a certificate and key are configured.
  if (c.tls.cert && c.tls.key) {
    const tls = { cert: resolve(base, c.tls.cert), key: resolve(base, c.tls.key), ...(c.tls.ca ? { ca: resolve(base, c.tls.ca) } : {}) };
    out.push({ name: 'mqtt:tls', transport: 'tls', port: c.tls.port, bind: c.tls.bind, tls });
    out.push({ name: 'mqtt:wss', transport: 'wss', port: c.wss.port, bind: c.wss.bind, path: c.wss.path, tls });
  }
  return out;
}

export async function startHub(config: HubConfig, deps: HubDeps = {}): Promise<HubHandle> {
  const logger = deps.logger ?? silentLogger;
  const base = deps.cwd ?? process.cwd();
  const dataDir = resolve(base, config.data_dir);
  const startedAt = systemScheduler.now();
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.error({ err }, 'error while stopping');
      }
    }
  };

  try {
    mkdirSync(dataDir, { recursive: true });
    const limits = {
      maxValueBytes: config.store.max_value_size,
      queueMaxLength: config.store.queue_max_length,
      listLimit: config.store.list_limit,
    };
    const redisUrl = config.cluster.redis.url;
    const nodeId = resolveNodeId(config.cluster.node_id, dataDir);
    // DESIGN.md §5: with Redis every node shares one store (registrations, queues, credentials).
    const store: Store = redisUrl
      ? createRedisStore(redisUrl, limits)
      : config.store.backend === 'memory'
        ? createMemoryStore(limits)
        : createLevelStore(join(dataDir, 'store'), limits);
    cleanups.push(() => store.close());
    const openStore = async () => {
      await store.open();
      logger.info({ backend: store.backend, dataDir, nodeId }, 'store open');
    };
    // With Redis the broker connects first, so an unreachable Redis is reported once, by it.
    if (!redisUrl) await openStore();
    let acl: AclSource | undefined;
    const persistence: PersistenceConfig = redisUrl
      ? { kind: 'redis', url: redisUrl }
      : config.store.backend === 'memory'
        ? { kind: 'memory' }
        : { kind: 'level', path: join(dataDir, 'mqtt') };
    const l = config.mqtt.limits;
    const broker = await createBroker({
      listeners: mqttListeners(config.mqtt, base),
      persistence,
      auth: createRuleAuthProvider({
        authentication: config.mqtt.auth.enabled,
        allowAnonymous: config.mqtt.auth.allow_anonymous,
        users: storeUserSource(store),
        // Bound below, before any listener accepts a client.
        acl: { rules: () => (acl ? acl.rules() : [...config.mqtt.acl.rules]) },
        noMatch: config.mqtt.acl.no_match,
      }),
      denyAction: config.mqtt.acl.deny_action,
      limits: {
        maxConnections: l.max_connections,
        maxPacketBytes: l.max_packet_size,
        maxInflight: l.max_inflight,
        maxQueued: l.max_queued,
        maxClientIdLength: l.max_clientid_len,
        connectTimeoutMs: l.connect_timeout,
        maxKeepaliveSeconds: l.max_keepalive,
      },
      sysIntervalMs: config.mqtt.sys_interval * 1000,
      logger,
    });
    cleanups.push(() => broker.stop());
    if (redisUrl) await openStore();
    const seeded = await seedUsers(store, config.mqtt.auth.users);
    acl = await storeAclSource(store, config.mqtt.acl.rules);
    if (config.mqtt.auth.enabled) logger.info({ users: seeded }, 'MQTT authentication on');

    // DESIGN.md §4: no fixed default password; admin_password or a generated one printed once.
    let auth: ApiAuth | false = false;
    if (config.api.enabled && config.api.auth.enabled) {
      const a = config.api.auth;
      auth = await ApiAuth.open({
        store,
        clock: systemScheduler,
        tokenTtlSec: Math.max(1, Math.ceil(config.api.token_ttl)),
        maxFailures: a.max_failures,
        windowMs: Math.round(a.failure_window * 1000),
        maxTracked: a.max_tracked_addresses,
        maxApiKeys: a.max_api_keys,
        cacheTtlMs: Math.round(a.cache_ttl * 1000),
        cacheMaxEntries: a.cache_max_entries,
      });
    } else if (config.api.enabled) {
      logger.warn('REST API authentication is off (api.auth.enabled=false): anyone who reaches the API port can use it');
    }

    const apiPlugins: ApiPlugin[] = [];
    let apiStarted = false;
    const context: HubContext = {
      config,
      logger,
      broker,
      store,
      nodeId,
      clustered: redisUrl !== undefined,
      registerApiPlugin(p) {
        if (apiStarted) throw HubErrors.apiPluginLate();
        apiPlugins.push(p);
      },
      scheduler: systemScheduler,
      random: systemRandom,
      dataDir,
    };

    await broker.listen();
    const gateways = await startGateways(context);
    cleanups.push(() => gateways.stop());

    let api: Awaited<ReturnType<typeof createApiServer>> | undefined;
    let stopping = false;
    const apiStatus = (): ListenerStatus[] =>
      config.api.enabled
        ? [
            {
              name: 'api:http',
              protocol: 'http',
              transport: 'tcp',
              bind: config.api.bind,
              port: api?.server.listening ? (api.server.address() as AddressInfo).port : config.api.port,
              enabled: true,
              up: Boolean(api?.server.listening) && !stopping,
            },
          ]
        : [];
    const status = (): HubStatus => ({
      version: HUB_VERSION,
      uptime: Math.round((systemScheduler.now() - startedAt) / 100) / 10,
      listeners: [
        ...broker.listeners().map((s) => (stopping ? { ...s, up: false } : s)),
        ...gateways.status(),
        ...apiStatus(),
      ],
    });
    if (config.api.enabled) {
      apiStarted = true;
      api = await createApiServer({ status, auth, plugins: apiPlugins, docs: config.api.docs, bodyLimit: config.api.body_limit, logger });
      const server = api;
      cleanups.push(() => server.close());
      try {
        await api.listen({ port: config.api.port, host: config.api.bind });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.message;
        throw HubErrors.listenFailed(`api:http listener cannot listen on ${config.api.bind}:${config.api.port}: ${why}`, { cause: err });
      }
      logger.info({ bind: config.api.bind, port: (api.server.address() as AddressInfo).port }, 'REST API up');
    }

    if (auth) {
      // Last step of a successful start, so a start-up failure (a busy port, a bad file) stays
      // one line on stderr and the next start still creates the admin and prints its password.
      const boot = await auth.users.bootstrap(config.admin_password);
      if (boot.generated) printAdminBanner(deps.stderr ?? process.stderr, boot.generated);
      if (boot.reset) logger.warn('REST API admin password replaced by the one from admin_password (M2MHUB_ADMIN_PASSWORD); older tokens revoked');
    }

    const ports: Record<string, number> = { ...broker.ports() };
    for (const s of [...gateways.status(), ...apiStatus()]) if (s.up) ports[s.name] = s.port;
    let stopped: Promise<void> | undefined;
    return {
      stop() {
        stopping = true;
        stopped ??= cleanup().then(() => logger.info('hub stopped'));
        return stopped;
      },
      status,
      ports,
      context,
      broker,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
