/**
 * Registrations left by a node that is gone (docs/mqtt-api.md "Cluster"). Each node expires
 * only the registrations it owns, so a crashed node's would stay in the shared store for ever:
 * every `intervalMs` each node scans the registrations, and one whose lifetime (plus the
 * server's grace) is over and whose owner is gone is removed by exactly one node (the winner
 * of a claim on it), which publishes `expired` on up/event as the owner would have.
 */
import type { Logger, Scheduler, TimerHandle } from '@m2mhub/core';
import type { Registration } from '@m2mhub/lwm2m';
import type { ClusterPort } from './cluster';

export interface OrphanSweepDeps {
  /** Every registration in the store with its owner, and removal by id. */
  registrations: { listAll(): AsyncIterable<Registration & { node?: string }>; remove(id: string): Promise<Registration | undefined> };
  cluster: ClusterPort;
  /** Publishes the expiry (the gateway core's `deregistered(ep, 'expired')`). */
  expired(ep: string): Promise<void>;
  scheduler: Scheduler;
  logger: Logger;
  /** Milliseconds between two scans. */
  intervalMs: number;
  /** Milliseconds after `expiresAt` before a registration counts as expired (the server's grace). */
  graceMs: number;
}

export class OrphanSweeper {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly deps: OrphanSweepDeps) {}

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One scan; resolves how many registrations this node expired. */
  async sweep(): Promise<number> {
    const { cluster, scheduler } = this.deps;
    let n = 0;
    for await (const reg of this.deps.registrations.listAll()) {
      if (!this.running) break;
      const owner = reg.node;
      if (owner === undefined || owner === cluster.nodeId) continue;
      if (reg.expiresAt + this.deps.graceMs > scheduler.wallNow()) continue;
      if (await cluster.alive(owner)) continue; // the owner expires its own
      if (!(await cluster.claim(`expire ${reg.id}`))) continue;
      if (!(await this.deps.registrations.remove(reg.id))) continue;
      await this.deps.expired(reg.endpoint);
      n++;
    }
    return n;
  }

  private arm(): void {
    if (!this.running) return;
    this.timer = this.deps.scheduler.setTimeout(() => {
      this.timer = undefined;
      this.sweep()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'cluster: sweep of gone nodes\' registrations failed'))
        .finally(() => this.arm());
    }, this.deps.intervalMs);
  }
}
