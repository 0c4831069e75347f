/** One listener's state (the same shape as `@m2mhub/broker`'s ListenerStatus; structural). */
export interface ListenerStatus {
  name: string;
  protocol: string;
  transport: string;
  bind: string;
  port: number;
  enabled: boolean;
  up: boolean;
  path?: string;
  error?: string;
}

export interface HubStatus {
  version: string;
  /** Seconds since start. */
  uptime: number;
  listeners: ListenerStatus[];
}
