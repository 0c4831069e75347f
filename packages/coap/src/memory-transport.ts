/**
 * An in-memory datagram network for protocol tests: transports attached to one network
 * exchange datagrams through the injected Scheduler, with loss, duplication, reordering
 * and latency driven by the injected Random (deterministic with SeededRandom + FakeScheduler).
 */
import {
  CoreErrors,
  type Datagram,
  type DatagramTransport,
  type PeerAddress,
  type Random,
  type Scheduler,
  peerKeyOf,
} from '@m2mhub/core';

export interface NetworkConditions {
  /** Probability a datagram is dropped. */
  loss: number;
  /** Probability a datagram is delivered twice. */
  duplicate: number;
  /** Probability a datagram gets an extra random delay in [0, reorderWindowMs) (so it may overtake or be overtaken). */
  reorder: number;
  reorderWindowMs: number;
  latencyMs: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

export class MemoryNetwork {
  private readonly nodes = new Map<string, MemoryTransport>();
  conditions: NetworkConditions = { loss: 0, duplicate: 0, reorder: 0, reorderWindowMs: 50, latencyMs: 1 };
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  /** Every datagram sent, for assertions (from, to, bytes, time). Bounded by `traceLimit`. */
  readonly trace: { from: PeerAddress; to: PeerAddress; data: Uint8Array; at: number }[] = [];
  traceLimit = 10_000;
  /** Targeted loss for tests: return true to drop this datagram (checked before random loss). */
  dropIf: ((from: PeerAddress, to: PeerAddress, data: Uint8Array) => boolean) | undefined;
  private nextHost = 1;

  constructor(
    readonly scheduler: Scheduler,
    readonly random: Random,
    conditions: Partial<NetworkConditions> = {},
  ) {
    this.conditions = { ...this.conditions, ...conditions };
  }

  /** A new transport on this network; address defaults to 10.0.0.N:5683. */
  transport(address?: string, port = 5683): MemoryTransport {
    const addr = address ?? `10.0.0.${this.nextHost++}`;
    const t = new MemoryTransport(this, { address: addr, port, family: addr.includes(':') ? 'IPv6' : 'IPv4' });
    return t;
  }

  /** @internal */
  attach(t: MemoryTransport): void {
    this.nodes.set(peerKeyOf(t.address()), t);
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    this.nodes.delete(peerKeyOf(t.address()));
  }

  /** @internal */
  deliver(from: PeerAddress, to: PeerAddress, data: Uint8Array): void {
    this.stats.sent++;
    if (this.trace.length < this.traceLimit) this.trace.push({ from, to, data, at: this.scheduler.now() });
    const c = this.conditions;
    if (this.dropIf?.(from, to, data)) {
      this.stats.dropped++;
      return;
    }
    if (c.loss > 0 && this.random.float() < c.loss) {
      this.stats.dropped++;
      return;
    }
    const copies = c.duplicate > 0 && this.random.float() < c.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const extra = c.reorder > 0 && this.random.float() < c.reorder ? this.random.float() * c.reorderWindowMs : 0;
      const bytes = data.slice();
      this.scheduler.setTimeout(() => {
        const node = this.nodes.get(peerKeyOf(to));
        if (!node) return;
        this.stats.delivered++;
        node.receive({ data: bytes, peer: from, peerKey: peerKeyOf(from) });
      }, c.latencyMs + extra);
    }
  }
}

export class MemoryTransport implements DatagramTransport {
  readonly kind = 'memory' as const;
  private handler: (d: Datagram) => void = () => {};
  private started = false;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly local: PeerAddress,
  ) {}

  start(): Promise<void> {
    this.started = true;
    this.network.attach(this);
    return Promise.resolve();
  }

  send(data: Uint8Array, peer: PeerAddress): void {
    if (!this.started) throw CoreErrors.closed('memory transport not started');
    this.network.deliver(this.local, peer, data);
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  /** @internal */
  receive(d: Datagram): void {
    if (this.started) this.handler(d);
  }

  /** Injects a datagram as if `peer` had sent it (fuzzing, fixtures). */
  inject(data: Uint8Array, peer: PeerAddress): void {
    this.receive({ data, peer, peerKey: peerKeyOf(peer) });
  }

  address(): PeerAddress {
    return this.local;
  }

  close(): Promise<void> {
    this.started = false;
    this.network.detach(this);
    return Promise.resolve();
  }
}
