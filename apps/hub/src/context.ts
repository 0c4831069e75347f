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
  /** The durable store (embedded level backend by default). */
  store: Store;
  /** Adds a REST resource under /api/v5; call before `startGateways` returns. */
  registerApiPlugin(plugin: ApiPlugin): void;
  scheduler: Scheduler;
  random: Random;
  /** Absolute data directory. */
  dataDir: string;
}
