/** What the hub hands to gateways and other plugged-in parts (DESIGN.md §2, gateway plugin interface). */
import type { ApiPlugin, ListenerStatus } from '@m2mhub/admin-api';
import type { BrokerClient } from '@m2mhub/broker';
import type { Logger, Random, Scheduler } from '@m2mhub/core';
import type { Store } from '@m2mhub/store';
import type { HubConfig } from './config/index';

export type { ListenerStatus };

export interface HubContext {
  config: HubConfig;
  logger: Logger;
  /** In-process MQTT client: publishes and subscriptions go through the broker's routing. */
  broker: BrokerClient;
  /** The durable store (embedded level backend by default; Redis, shared by every node, with `cluster.redis.url`). */
  store: Store;
  /**
   * This hub's name among the nodes sharing one Redis (`cluster.node_id`, default kept in
   * `<data_dir>/node_id`): record it as the owner of a device's UDP/DTLS session.
   */
  nodeId: string;
  /** True when `cluster.redis.url` is set: other nodes share the store and the broker's routing. */
  clustered: boolean;
  /** Adds a REST resource under /api/v5; call before `startGateways` returns. */
  registerApiPlugin(plugin: ApiPlugin): void;
  scheduler: Scheduler;
  random: Random;
  /** Absolute data directory. */
  dataDir: string;
}
