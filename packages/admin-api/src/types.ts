import type { ListenerStatus } from '@m2mhub/broker';

/** One listener's state: the broker's shape, which gateways' listeners share. */
export type { ListenerStatus };

export interface HubStatus {
  version: string;
  /** Seconds since start. */
  uptime: number;
  listeners: ListenerStatus[];
}
