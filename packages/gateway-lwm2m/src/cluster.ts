/**
 * Several hub nodes sharing one store and one broker (DESIGN.md §5; docs/mqtt-api.md
 * "Cluster"). Every node receives every command through the broker, but only the node that
 * holds the device's UDP/DTLS session (the owner recorded with its registration) may execute
 * it. What the others need to decide between silence and an error reply:
 *
 * - liveness: each node writes a heartbeat (`n/<node>` = wall-clock ms) every
 *   `heartbeatMs`; a node whose heartbeat is older than `nodeTimeoutMs`, or absent (it
 *   stopped cleanly and removed it), is gone; a heartbeat read is reused for up to a second;
 * - a one-answer claim: when nobody can execute a command (no registration anywhere, or its
 *   owner is gone) exactly one node must answer. The nodes race for a claim keyed by the
 *   broker's message id, a durable queue bounded to one item: the store makes a push onto a
 *   full queue fail atomically (a Lua script on Redis), so exactly one push wins. Claims are
 *   cleared `claimTtlMs` later (and stale ones at start).
 */
import type { Logger, Scheduler, TimerHandle } from '@m2mhub/core';
import type { DurableQueue, KeyValueStore } from '@m2mhub/store';

/** What the gateway core asks of the cluster (absent on a single node). */
export interface ClusterPort {
  readonly nodeId: string;
  /** The node recorded as owner of `ep`'s registration, undefined when `ep` is registered nowhere. */
  ownerOf(ep: string): Promise<string | undefined>;
  /** True when `node` has a heartbeat younger than the node timeout. */
  alive(node: string): Promise<boolean>;
  /** True on exactly one of the nodes that call it with the same key (within the claim lifetime). */
  claim(key: string): Promise<boolean>;
}

export interface ClusterTimings {
  /** Milliseconds between two heartbeats of this node. */
  heartbeatMs: number;
  /** Milliseconds without a heartbeat after which a node is gone. */
  nodeTimeoutMs: number;
  /** Milliseconds a one-answer claim is kept. */
  claimTtlMs: number;
}

interface Claim {
  node: string;
  at: number;
}

export interface ClusterNodeDeps {
  nodeId: string;
  /** Heartbeats (`n/<node>`). */
  kv: KeyValueStore;
  /** One-answer claims, one queue per key, bounded to one item. */
  claims: DurableQueue<Claim>;
  ownerOf(ep: string): Promise<string | undefined>;
  timings: ClusterTimings;
  scheduler: Scheduler;
  logger: Logger;
}

const NODE_PREFIX = 'n/';
/** Stale claims removed per start (a bound on the work, not on correctness). */
const SWEEP_LIMIT = 1000;
/** Longest reuse of a heartbeat read (ms); at most the heartbeat interval. */
const RECHECK_MS = 1000;
/** Nodes whose heartbeat read is remembered. */
const MAX_CHECKED = 1024;

export class ClusterNode implements ClusterPort {
  readonly nodeId: string;
  /**
   * Heartbeat read per node and when it was read: every non-owner node asks about the owner
   * for each command, so a read is reused for `recheckMs` (a clean stop is noticed that late).
   */
  private readonly checked = new Map<string, { beat: number | undefined; at: number }>();
  private readonly recheckMs: number;
  private timer: TimerHandle | undefined;
  private readonly claimTimers = new Set<TimerHandle>();
  private stopped = true;

  constructor(private readonly deps: ClusterNodeDeps) {
    this.nodeId = deps.nodeId;
    this.recheckMs = Math.min(RECHECK_MS, deps.timings.heartbeatMs);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.beat();
    await this.sweepClaims();
  }

  /** Stops the heartbeat and removes ours, so the other nodes know at once that we are gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const t of this.claimTimers) t.cancel();
    this.claimTimers.clear();
    await this.deps.kv.delete(NODE_PREFIX + this.nodeId).catch(() => false);
  }

  ownerOf(ep: string): Promise<string | undefined> {
    return this.deps.ownerOf(ep);
  }

  async alive(node: string): Promise<boolean> {
    if (node === this.nodeId) return !this.stopped;
    const now = this.deps.scheduler.wallNow();
    let c = this.checked.get(node);
    if (!c || now - c.at > this.recheckMs) {
      const beat = await this.deps.kv.get<number>(NODE_PREFIX + node);
      c = { beat: typeof beat === 'number' ? beat : undefined, at: now };
      this.checked.set(node, c);
      if (this.checked.size > MAX_CHECKED) this.checked.delete(this.checked.keys().next().value as string);
    }
    return c.beat !== undefined && now - c.beat <= this.deps.timings.nodeTimeoutMs;
  }

  async claim(key: string): Promise<boolean> {
    try {
      await this.deps.claims.push(key, { node: this.nodeId, at: this.deps.scheduler.wallNow() }, { maxLength: 1 });
    } catch {
      return false; // another node holds it (StoreErrors.queueFull)
    }
    const t = this.deps.scheduler.setTimeout(() => {
      this.claimTimers.delete(t);
      this.deps.claims.clear(key).catch((err: unknown) => this.deps.logger.warn({ err }, 'cluster claim cleanup failed'));
    }, this.deps.timings.claimTtlMs);
    this.claimTimers.add(t);
    return true;
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.deps.kv.put(NODE_PREFIX + this.nodeId, this.deps.scheduler.wallNow());
    } catch (err) {
      this.deps.logger.warn({ err }, 'cluster heartbeat failed');
    }
    if (this.stopped) return;
    this.timer = this.deps.scheduler.setTimeout(() => {
      this.timer = undefined;
      void this.beat();
    }, this.deps.timings.heartbeatMs);
  }

  /** Claims left behind by a node that stopped before clearing them. */
  private async sweepClaims(): Promise<void> {
    const now = this.deps.scheduler.wallNow();
    try {
      for (const key of await this.deps.claims.keys({ limit: SWEEP_LIMIT })) {
        const c = await this.deps.claims.peek(key);
        if (!c || now - c.at > this.deps.timings.claimTtlMs) await this.deps.claims.clear(key);
      }
    } catch (err) {
      this.deps.logger.warn({ err }, 'cluster claim sweep failed');
    }
  }
}
