/**
 * The embedded MQTT 3.1.1 broker: Aedes plus our listeners, auth/ACL port, limits,
 * `$SYS` statistics, persistence selection and an in-process client API for the rest of
 * the hub (gateways publish and subscribe through Aedes routing, so messages from external
 * clients reach them and cluster routing works the same way).
 */
import type { Duplex } from 'node:stream';
import { type Logger, type Scheduler, silentLogger, systemScheduler } from '@m2mhub/core';
import type { Aedes, AedesPublishPacket, AuthenticateError, Client, Subscription } from 'aedes';
import { allowAllAuth, type AuthProvider, type ClientInfo } from './auth';
import { BrokerErrors } from './errors';
import { GuardedConnection, MqttFrameScanner } from './frame-guard';
import { type AcceptInfo, type ListenerSpec, type ListenerStatus, type RunningListener, startListener } from './listeners';
import { type OpenedPersistence, openPersistence, type PersistenceConfig, withQueueBound } from './persistence';
import { type BrokerCounters, newCounters, SysPublisher } from './sys';
import { assertFilter, assertTopic, topicMatches } from './topic';
import { type OpenedEmitter, openRedisEmitter } from './cluster-emitter';

export interface BrokerLimits {
  /** Connections accepted at once over all listeners; more are closed on accept. */
  maxConnections: number;
  /** Largest MQTT packet (fixed header included) a client may send; bigger ones drop that client. */
  maxPacketBytes: number;
  /**
   * Inbound QoS 2 messages a client may hold awaiting PUBREL (Aedes `maxInflightInbound`);
   * also the packets a client may pipeline before its CONNECT is processed (Aedes `queueLimit`).
   */
  maxInflight: number;
  /**
   * Messages one persistent session may hold: queued while offline plus sent and awaiting
   * PUBACK/PUBCOMP (Mosquitto's max_queued_messages). More are dropped for that session.
   */
  maxQueued: number;
  /** Longest client identifier (MQTT 3.1.1 §3.1.3.1 allows servers to accept more than 23). */
  maxClientIdLength: number;
  /** Time a connection may take to send CONNECT. */
  connectTimeoutMs: number;
  /** Largest keep-alive a client may ask for, in seconds (0: any). */
  maxKeepaliveSeconds: number;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxConnections: 100_000,
  maxPacketBytes: 1024 * 1024,
  maxInflight: 1000,
  maxQueued: 1000,
  maxClientIdLength: 65535,
  connectTimeoutMs: 30_000,
  maxKeepaliveSeconds: 0,
};

export interface BrokerOptions {
  listeners: ListenerSpec[];
  persistence: PersistenceConfig;
  auth?: AuthProvider;
  /** What to do with a publish the ACL denies: acknowledge and drop (Mosquitto, EMQX default) or disconnect. */
  denyAction?: 'ignore' | 'disconnect';
  limits?: Partial<BrokerLimits>;
  /** `$SYS/broker/...` publish interval in ms (0: off). */
  sysIntervalMs?: number;
  scheduler?: Scheduler;
  logger?: Logger;
  /** Broker id (Aedes `id`); random by default. */
  id?: string;
}

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface SubscribeOptions {
  qos?: 0 | 1 | 2;
  /** Also deliver the retained messages currently matching the filter. */
  retained?: boolean;
}

export interface InProcessMessage {
  /** Unique per publish: Aedes `brokerId:brokerCounter` (dedup across redeliveries). */
  id?: string;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export type MessageHandler = (msg: InProcessMessage) => void | Promise<void>;
export type Unsubscribe = () => Promise<void>;

/** The in-process client API handed to gateways and other parts of the hub. */
export interface BrokerClient {
  publish(topic: string, payload: Buffer | Uint8Array | string, options?: PublishOptions): Promise<void>;
  subscribe(filter: string, handler: MessageHandler, options?: SubscribeOptions): Promise<Unsubscribe>;
}

export interface ConnectedClient {
  clientId: string;
  username?: string;
  listener: string;
  remoteAddress?: string;
  cleanSession: boolean;
}

export interface Broker extends BrokerClient {
  readonly id: string;
  /** Starts every listener; rejects (and stops the ones started) if one cannot. */
  listen(): Promise<void>;
  stop(): Promise<void>;
  listeners(): ListenerStatus[];
  /** Actual bound port per listener name. */
  ports(): Record<string, number>;
  counters(): BrokerCounters;
  /** Open network connections over all listeners (what max_connections bounds). */
  connections(): number;
  clients(): ConnectedClient[];
  /** Closes a connected client's connection; false when not connected. */
  disconnect(clientId: string): boolean;
}

// Where a denied publish goes under denyAction "ignore": no subscriber ever gets it
// (authorizeForward drops it, and a `#` subscription never matches `$` topics [MQTT-4.7.2-1]).
const DROPPED_TOPIC = '$SYS/m2mhub/dropped';
const VERSION = 'm2mhub 0.1.0 (aedes 1.2)';

interface ConnMeta {
  listener: string;
  remoteAddress?: string;
}

export async function createBroker(options: BrokerOptions): Promise<Broker> {
  const log = (options.logger ?? silentLogger).child({ component: 'broker' });
  const scheduler = options.scheduler ?? systemScheduler;
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, ...options.limits };
  const auth = options.auth ?? allowAllAuth;
  const denyAction = options.denyAction ?? 'ignore';
  const counters = newCounters();
  const clientInfo = new WeakMap<Client, ClientInfo>();
  const connMeta = new WeakMap<object, ConnMeta>();
  const liveConns = new Set<Duplex>();

  const persistence: OpenedPersistence = await openPersistence(options.persistence, (err) =>
    log.error({ err: err.message }, 'redis connection error'),
  );
  // DESIGN.md §5: with Redis, messages are routed between nodes through Redis pub/sub too,
  // not only stored there (a subscriber on hub A gets a publish made on hub B).
  let emitter: OpenedEmitter | undefined;
  if (options.persistence.kind === 'redis') {
    try {
      emitter = await openRedisEmitter(options.persistence.url, (err) => log.error({ err: err.message }, 'redis message routing error'));
    } catch (err) {
      await persistence.close().catch(() => {});
      throw err;
    }
  }
  const { Aedes: AedesClass } = await import('aedes');
  let aedes: Aedes;
  try {
    aedes = await AedesClass.createBroker({
      ...(options.id ? { id: options.id } : {}),
      persistence: persistence.instance,
      ...(emitter ? { mq: emitter.instance as never } : {}),
      queueLimit: limits.maxInflight,
      maxInflightInbound: limits.maxInflight,
      maxClientsIdLength: limits.maxClientIdLength,
      connectTimeout: limits.connectTimeoutMs,
      keepaliveLimit: limits.maxKeepaliveSeconds,
      preConnect(client, packet, done) {
        // DESIGN.md §1: MQTT 3.1 and 3.1.1 only; Aedes answers any other level with
        // CONNACK 0x01 [MQTT-3.1.2-2] after this hook, so it is not refused here.
        const meta = connMeta.get(client.conn);
        const info: ClientInfo = { clientId: packet.clientId };
        if (packet.username !== undefined) info.username = packet.username;
        if (meta?.remoteAddress) info.remoteAddress = meta.remoteAddress;
        clientInfo.set(client, info);
        done(null, true);
      },
      authenticate(client, username, password, done) {
        const info: ClientInfo = clientInfo.get(client) ?? { clientId: client.id };
        info.clientId = client.id;
        if (username !== undefined) info.username = username;
        clientInfo.set(client, info);
        auth.authenticate(info, password as Buffer | undefined).then(
          (r) => {
            if (r.ok) return done(null, true);
            const code = r.reason === 'bad_credentials' ? 4 : 5;
            log.info({ clientId: client.id, username, code }, 'MQTT connection refused');
            const err = Object.assign(new Error(r.reason === 'bad_credentials' ? 'bad user name or password' : 'not authorized'), {
              returnCode: code,
            }) as AuthenticateError;
            done(err, false);
          },
          (err: unknown) => {
            log.error({ err, clientId: client.id }, 'authentication failed');
            done(Object.assign(new Error('server unavailable'), { returnCode: 3 }) as AuthenticateError, false);
          },
        );
      },
      authorizePublish(client, packet, done) {
        if (!client) return done(null); // a stale will published after its client is gone
        const deny = () => {
          log.debug({ clientId: client.id, topic: packet.topic }, 'publish denied by ACL');
          if (denyAction === 'disconnect') return done(BrokerErrors.notAuthorized(`publish to ${packet.topic}`));
          // [MQTT-3.3.5-2] acknowledge per QoS and do not deliver.
          packet.topic = DROPPED_TOPIC;
          packet.retain = false;
          done(null);
        };
        if (packet.topic.startsWith('$SYS')) return deny();
        const info = clientInfo.get(client) ?? { clientId: client.id };
        Promise.resolve(auth.authorizePublish(info, packet.topic)).then(
          (ok) => (ok ? done(null) : deny()),
          (err: unknown) => {
            log.error({ err, clientId: client.id }, 'publish authorization failed');
            deny();
          },
        );
      },
      authorizeSubscribe(client, sub: Subscription, done) {
        const info = clientInfo.get(client) ?? { clientId: client.id };
        Promise.resolve(auth.authorizeSubscribe(info, sub.topic)).then(
          // MQTT 3.1.1 §3.9.3: a null subscription makes Aedes answer 0x80 in SUBACK.
          (ok) => {
            if (!ok) log.debug({ clientId: client.id, filter: sub.topic }, 'subscription denied by ACL');
            done(null, ok ? sub : null);
          },
          (err: unknown) => {
            log.error({ err, clientId: client.id }, 'subscribe authorization failed');
            done(null, null);
          },
        );
      },
      published(packet, client, done) {
        // QoS 1 from a client: stored now, so its held PUBACK may go out (see GuardedConnection).
        if (client && packet.qos === 1 && packet.messageId !== undefined && client.conn instanceof GuardedConnection) {
          client.conn.releasePuback(packet.messageId);
        }
        done(null);
      },
      authorizeForward(_client, packet: AedesPublishPacket) {
        if (packet.topic === DROPPED_TOPIC) return null;
        counters.publishSent++;
        return packet;
      },
    });
  } catch (err) {
    await emitter?.close().catch(() => {});
    await persistence.close().catch(() => {});
    throw BrokerErrors.persistence(`cannot start the broker on ${persistence.describe}: ${(err as Error).message}`, { cause: err });
  }
  const withPersistence = aedes as unknown as { persistence: object };
  withPersistence.persistence = withQueueBound(withPersistence.persistence, limits.maxQueued, (clientId) => {
    counters.publishDropped++;
    log.debug({ clientId, max: limits.maxQueued }, 'session queue full, message dropped for this client');
  });
  log.info({ persistence: persistence.describe, routing: emitter ? 'redis' : 'local', id: aedes.id }, 'MQTT broker ready');

  const clients = new Map<string, { client: Client; meta: ConnectedClient }>();
  aedes.on('clientReady', (client) => {
    const info = clientInfo.get(client);
    const meta = connMeta.get(client.conn);
    const c: ConnectedClient = { clientId: client.id, listener: meta?.listener ?? 'in-process', cleanSession: client.clean };
    if (info?.username !== undefined) c.username = info.username;
    if (meta?.remoteAddress !== undefined) c.remoteAddress = meta.remoteAddress;
    clients.set(client.id, { client, meta: c });
    counters.clientsConnected = aedes.connectedClients;
    counters.clientsMaximum = Math.max(counters.clientsMaximum, counters.clientsConnected);
  });
  aedes.on('clientDisconnect', (client) => {
    if (clients.get(client.id)?.client === client) clients.delete(client.id);
    counters.clientsConnected = aedes.connectedClients;
  });
  aedes.on('publish', (packet, client) => {
    if (client && packet.topic !== DROPPED_TOPIC) counters.publishReceived++;
  });
  aedes.on('clientError', (client, err) => {
    log.info({ clientId: client?.id, err: err.message }, 'MQTT client error, connection closed');
  });
  aedes.on('connectionError', (client, err) => {
    log.info({ clientId: client?.id, err: err.message }, 'MQTT connection error');
  });

  const accept = (conn: Duplex, info: AcceptInfo) => {
    if (liveConns.size >= limits.maxConnections) {
      log.warn({ listener: info.listener, remote: info.remoteAddress, max: limits.maxConnections }, 'connection refused: max_connections reached');
      conn.destroy();
      return;
    }
    const scanner = new MqttFrameScanner(limits.maxPacketBytes);
    const guarded = new GuardedConnection(conn, scanner, {
      violation: (err) => log.warn({ listener: info.listener, remote: info.remoteAddress, err: err.message }, 'MQTT client dropped'),
      bytesIn: (n) => {
        counters.bytesReceived += n;
      },
      bytesOut: (n) => {
        counters.bytesSent += n;
      },
    });
    guarded.holdPubacks = true;
    const meta: ConnMeta = { listener: info.listener };
    if (info.remoteAddress) meta.remoteAddress = info.remoteAddress;
    connMeta.set(guarded, meta);
    liveConns.add(conn);
    conn.on('close', () => liveConns.delete(conn));
    conn.on('error', () => {});
    aedes.handle(guarded, info.req);
  };

  const running: RunningListener[] = [];
  const sys = new SysPublisher(scheduler, options.sysIntervalMs ?? 10_000, () => counters, VERSION, (topic, payload) =>
    aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: true, dup: false }, () => {}),
  );

  const publish: BrokerClient['publish'] = (topic, payload, opts = {}) => {
    assertTopic(topic);
    const buf = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic, payload: buf, qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  };

  const subscribe: BrokerClient['subscribe'] = async (filter, handler, opts = {}) => {
    assertFilter(filter);
    const call = (msg: InProcessMessage) => {
      try {
        const r = handler(msg);
        if (r && typeof (r as Promise<void>).then === 'function') {
          (r as Promise<void>).catch((err: unknown) => log.error({ err, filter }, 'in-process subscriber failed'));
        }
      } catch (err) {
        log.error({ err, filter }, 'in-process subscriber failed');
      }
    };
    const deliver = (packet: AedesPublishPacket, cb: () => void) => {
      // mqemitter matches `#` against `$` topics; MQTT does not [MQTT-4.7.2-1].
      if (packet.topic !== DROPPED_TOPIC && topicMatches(filter, packet.topic)) {
        call({ id: `${packet.brokerId}:${packet.brokerCounter}`, topic: packet.topic, payload: Buffer.from(packet.payload as Buffer), qos: packet.qos, retain: false });
      }
      cb();
    };
    await new Promise<void>((resolve) => aedes.subscribe(filter, deliver, resolve));
    if (opts.retained) {
      const p = (aedes as unknown as { persistence: { createRetainedStreamCombi(p: string[]): AsyncIterable<AedesPublishPacket> } })
        .persistence;
      for await (const packet of p.createRetainedStreamCombi([filter])) {
        if (topicMatches(filter, packet.topic)) {
          call({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer), qos: packet.qos, retain: true });
        }
      }
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      await new Promise<void>((resolve) => aedes.unsubscribe(filter, deliver, resolve));
    };
  };

  let stopped = false;
  const broker: Broker = {
    id: aedes.id,
    publish,
    subscribe,
    async listen() {
      try {
        for (const spec of options.listeners) {
          const l = await startListener(spec, accept, {
            maxWsPayload: limits.maxPacketBytes + 8,
            onTlsError: (err) => log.debug({ listener: spec.name, err: err.message }, 'TLS handshake failed'),
          });
          running.push(l);
          log.info({ listener: spec.name, bind: spec.bind, port: l.port() }, 'MQTT listener up');
        }
      } catch (err) {
        await Promise.all(running.splice(0).map((l) => l.close()));
        throw err;
      }
      sys.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      sys.stop();
      // Stop accepting first, then close clients, then persistence.
      const closing = running.map((l) => l.close());
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const c of liveConns) c.destroy();
      await Promise.all(closing);
      await persistence.close();
      log.info('MQTT broker stopped');
    },
    listeners() {
      return options.listeners.map((spec) => {
        const l = running.find((r) => r.spec === spec);
        const s: ListenerStatus = {
          name: spec.name,
          protocol: 'mqtt',
          transport: spec.transport,
          bind: spec.bind,
          port: l ? l.port() : spec.port,
          enabled: true,
          up: l ? l.up() : false,
        };
        if (spec.path) s.path = spec.path;
        return s;
      });
    },
    ports() {
      return Object.fromEntries(running.map((l) => [l.spec.name, l.port()]));
    },
    counters: () => ({ ...counters }),
    connections: () => liveConns.size,
    clients: () => [...clients.values()].map((c) => ({ ...c.meta })),
    disconnect(clientId) {
      const c = clients.get(clientId);
      if (!c) return false;
      c.client.close();
      return true;
    },
  };
  return broker;
}
