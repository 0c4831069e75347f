/**
 * The gateway plugin interface (DESIGN.md §2, layer 7): what a protocol gateway gets from the
 * hub and what it gives back. The hub only knows these types and a registry of factories by
 * name, so a second gateway (CoAP, MQTT-SN) is added by writing a package, not by changing
 * the hub's core.
 */
import type { Logger, Random, Scheduler, TypedEmitter } from '@m2mhub/core';
import type { Store } from '@m2mhub/store';

export type QoS = 0 | 1 | 2;

/** One MQTT message as a gateway sees it. */
export interface GatewayMessage {
  /** Unique per publish (e.g. Aedes `brokerId:brokerCounter`), when the broker provides one. */
  id?: string;
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
}

/** Stops a subscription. */
export type Unsubscribe = () => Promise<void>;

/**
 * The broker, as an in-process MQTT client (the same shape as @m2mhub/broker's BrokerClient,
 * so the hub passes the broker itself). Publishes go through the broker's routing (and, in a
 * cluster, its Redis emitter), so a command published on any node reaches the node that holds
 * the device's session.
 */
export interface BrokerClient {
  publish(topic: string, payload: Uint8Array | string, opts?: PublishOptions): Promise<void>;
  subscribe(filter: string, handler: (msg: GatewayMessage) => void | Promise<void>, opts?: { qos?: QoS }): Promise<Unsubscribe>;
}

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface GatewayRouteRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** Parsed JSON, or the text of a body whose type the route lists in `textBody`. */
  body: unknown;
  /** The request's content-type (media type only, lower case), if any. */
  contentType?: string;
}

/** A route taking a text body (e.g. an XML document): the media types it accepts and the largest body. */
export interface TextBodySpec {
  types: string[];
  maxBytes: number;
}

export interface GatewayRouteReply {
  status: number;
  body?: unknown;
}

/**
 * An admin API route a gateway contributes. `url` is relative to `/api/v5/gateways/<name>`
 * and uses Fastify's `:param` syntax, e.g. `/clients/:ep`.
 */
export interface GatewayRoute {
  method: HttpMethod;
  url: string;
  summary?: string;
  /** Accept these text media types as a string body, at most `maxBytes` (over it: 413). */
  textBody?: TextBodySpec;
  handler(req: GatewayRouteRequest): Promise<GatewayRouteReply> | GatewayRouteReply;
}

export interface RouteRegistrar {
  add(route: GatewayRoute): void;
}

/** Events a gateway reports on the hub's event bus (the API's live event stream listens). */
export interface GatewayEvent {
  gateway: string;
  type: string;
  clientId?: string;
  at: number;
  data?: Record<string, unknown>;
}

export type GatewayEvents = { event: GatewayEvent };

/** What the hub hands a gateway when it creates it. */
export interface GatewayContext<C> {
  name: string;
  config: C;
  broker: BrokerClient;
  /** The durable store; a gateway keeps its state in namespaces prefixed with its name. */
  store: Store;
  events: TypedEmitter<GatewayEvents>;
  logger: Logger;
  scheduler: Scheduler;
  random: Random;
  /** The hub's data directory (secret keys, files a gateway owns). */
  dataDir: string;
  routes: RouteRegistrar;
  /**
   * This hub's name among the nodes of a cluster (`cluster.node_id`, DESIGN.md §5). With
   * `clustered`, a gateway records it as the owner of the device sessions it holds.
   */
  nodeId?: string;
  /** True when other hub processes share the store and the broker's routing (`cluster.redis.url`). */
  clustered?: boolean;
}

/** One connected client (device) as listed by the API. */
export interface GatewayClientInfo {
  clientid: string;
  username?: string;
  proto_name: string;
  proto_ver?: string;
  ip_address: string;
  port: number;
  connected: boolean;
  connected_at: string;
  /** Gateway-specific details (lifetime, binding, object list, ...). */
  [key: string]: unknown;
}

export interface GatewayStats {
  clients: number;
  messages_in: number;
  messages_out: number;
  [key: string]: number;
}

export interface ListenerStatus {
  id: string;
  type: string;
  bind: string;
  running: boolean;
  error?: string;
}

export interface ClientQuery {
  page?: number;
  limit?: number;
  like_clientid?: string;
}

/** What a gateway gives the hub. */
export interface Gateway {
  readonly name: string;
  readonly enabled: boolean;
  /** Binds listeners, subscribes, restores durable state. */
  start(): Promise<void>;
  /** Releases everything start() took. */
  stop(): Promise<void>;
  /** Runtime switch: disable stops the listeners and drops clients; enable starts again. */
  enable(): Promise<void>;
  disable(): Promise<void>;
  clients(query?: ClientQuery): { data: GatewayClientInfo[]; count: number };
  client(clientId: string): GatewayClientInfo | undefined;
  /** Drops a client's session; resolves false when unknown. */
  kick(clientId: string): Promise<boolean>;
  stats(): GatewayStats;
  listeners(): ListenerStatus[];
}

export interface GatewayFactory<C = unknown> {
  readonly name: string;
  /** Default config; `parseConfig` validates user input against it. */
  defaults(): C;
  /** Throws a typed error naming the key, the value and what is allowed. */
  parseConfig(raw: unknown): C;
  create(ctx: GatewayContext<C>): Gateway | Promise<Gateway>;
}
