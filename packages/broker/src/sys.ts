/**
 * `$SYS/broker/...` statistics as Mosquitto publishes them (retained, every `interval` ms),
 * next to Aedes' own `$SYS/<id>/heartbeat`.
 */
import type { Scheduler, TimerHandle } from '@m2mhub/core';

export interface BrokerCounters {
  clientsConnected: number;
  clientsMaximum: number;
  publishReceived: number;
  publishSent: number;
  /** Messages dropped because a session's queue was full. */
  publishDropped: number;
  bytesReceived: number;
  bytesSent: number;
}

export function newCounters(): BrokerCounters {
  return { clientsConnected: 0, clientsMaximum: 0, publishReceived: 0, publishSent: 0, publishDropped: 0, bytesReceived: 0, bytesSent: 0 };
}

/** The topics and values for one snapshot (pure). */
export function sysMessages(c: BrokerCounters, uptimeSeconds: number, version: string): Array<[string, string]> {
  return [
    ['$SYS/broker/version', version],
    ['$SYS/broker/uptime', `${Math.floor(uptimeSeconds)} seconds`],
    ['$SYS/broker/clients/connected', String(c.clientsConnected)],
    ['$SYS/broker/clients/active', String(c.clientsConnected)],
    ['$SYS/broker/clients/maximum', String(c.clientsMaximum)],
    ['$SYS/broker/messages/received', String(c.publishReceived)],
    ['$SYS/broker/messages/sent', String(c.publishSent)],
    ['$SYS/broker/publish/messages/received', String(c.publishReceived)],
    ['$SYS/broker/publish/messages/sent', String(c.publishSent)],
    ['$SYS/broker/publish/messages/dropped', String(c.publishDropped)],
    ['$SYS/broker/bytes/received', String(c.bytesReceived)],
    ['$SYS/broker/bytes/sent', String(c.bytesSent)],
  ];
}

export class SysPublisher {
  private timer: TimerHandle | undefined;
  private readonly startedAt: number;
  constructor(
    private readonly scheduler: Scheduler,
    private readonly intervalMs: number,
    private readonly counters: () => BrokerCounters,
    private readonly version: string,
    private readonly publish: (topic: string, payload: string) => void,
  ) {
    this.startedAt = scheduler.now();
  }
  start(): void {
    if (this.intervalMs <= 0) return;
    this.tick();
  }
  tick = (): void => {
    for (const [t, v] of sysMessages(this.counters(), (this.scheduler.now() - this.startedAt) / 1000, this.version)) this.publish(t, v);
    this.timer = this.scheduler.setTimeout(this.tick, this.intervalMs);
  };
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
