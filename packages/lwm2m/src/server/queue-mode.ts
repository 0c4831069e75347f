import { type M2MError, type Random, type Scheduler, type TimerHandle, isM2MError, toHex } from '@m2mhub/core';
import { ServerErrors } from './errors';
import type { Registration } from './registration';
import type { DeviceRequest } from './requests';
import type { DeviceResponse } from './responses';
import type { QueuedRequest, RequestQueueStore } from './stores';

export interface QueueModeConfig {
  awakeWindowMs: number;
  queueMaxRequests: number;
  queueRequestTtlMs: number;
}

export interface QueueModeEvents {
  awake(endpoint: string, registrationId: string): void;
  sleeping(endpoint: string, registrationId: string): void;
  queued(item: QueuedRequest): void;
  result(item: QueuedRequest, response: DeviceResponse | undefined, error: M2MError | undefined): void;
}

interface Waiter {
  resolve(r: DeviceResponse): void;
  reject(e: unknown): void;
  timer: TimerHandle | undefined;
}

/**
 * Queue mode (LwM2M Core §6.5.4 / 1.0 §5.3.1.1): which devices are awake, and the bounded,
 * durable queue of requests for the sleeping ones. A device is awake for `awakeWindowMs`
 * after any datagram; its queue is flushed oldest first when it wakes.
 */
export class QueueMode {
  private readonly awake = new Map<string, TimerHandle>();
  private readonly flushing = new Set<string>();
  private readonly waiters = new Map<string, Waiter>();
  private closed = false;

  constructor(
    private readonly store: RequestQueueStore,
    private readonly config: QueueModeConfig,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly events: QueueModeEvents,
    private readonly registrationOf: (endpoint: string) => Promise<Registration | undefined>,
    private readonly dispatch: (reg: Registration, req: DeviceRequest) => Promise<DeviceResponse>,
  ) {}

  isAwake(endpoint: string): boolean {
    return this.awake.has(endpoint);
  }

  /** True when a request for this device must wait (asleep, or its queue is being sent). */
  mustQueue(endpoint: string): boolean {
    return !this.awake.has(endpoint) || this.flushing.has(endpoint);
  }

  /** Any datagram from the device: it is awake for another window. */
  wake(endpoint: string, registrationId: string): void {
    if (this.closed) return;
    const was = this.awake.get(endpoint);
    was?.cancel();
    this.awake.set(
      endpoint,
      this.scheduler.setTimeout(() => {
        this.awake.delete(endpoint);
        this.events.sleeping(endpoint, registrationId);
      }, this.config.awakeWindowMs),
    );
    if (!was) {
      this.events.awake(endpoint, registrationId);
      void this.flush(endpoint);
    }
  }

  /** Forgets the awake state (the registration ended). */
  forget(endpoint: string): void {
    this.awake.get(endpoint)?.cancel();
    this.awake.delete(endpoint);
  }

  async enqueue(reg: Registration, req: DeviceRequest, tag: unknown, onQueued?: (item: QueuedRequest) => void): Promise<DeviceResponse> {
    const now = this.scheduler.wallNow();
    const item: QueuedRequest = {
      id: toHex(this.random.bytes(8)),
      endpoint: reg.endpoint,
      request: req,
      queuedAt: now,
      expiresAt: now + this.config.queueRequestTtlMs,
    };
    if (tag !== undefined) item.tag = tag;
    if (!(await this.store.push(item, this.config.queueMaxRequests))) {
      throw ServerErrors.queueFull(`${reg.endpoint}: ${this.config.queueMaxRequests} requests waiting`);
    }
    const p = new Promise<DeviceResponse>((resolve, reject) => {
      this.waiters.set(item.id, { resolve, reject, timer: undefined });
    });
    this.armExpiry(item);
    onQueued?.(item);
    this.events.queued(item);
    // The device may have woken while the item was being stored.
    if (this.awake.has(reg.endpoint)) void this.flush(reg.endpoint);
    return p;
  }

  /** After a restart: expiry timers for the items kept in the store (their results go out as events). */
  async restore(): Promise<void> {
    for (const ep of await this.store.endpoints()) {
      for (const item of await this.store.peek(ep)) this.armExpiry(item);
    }
  }

  private armExpiry(item: QueuedRequest): void {
    const timer = this.scheduler.setTimeout(() => {
      void this.store.remove(item.endpoint, item.id).then((removed) => {
        if (removed) this.settle(item, undefined, ServerErrors.queueExpired(`${item.endpoint}: ${item.request.kind}`));
      });
    }, Math.max(0, item.expiresAt - this.scheduler.wallNow()));
    const w = this.waiters.get(item.id);
    if (w) w.timer = timer;
    else this.waiters.set(item.id, { resolve: () => undefined, reject: () => undefined, timer });
  }

  private settle(item: QueuedRequest, response: DeviceResponse | undefined, error: M2MError | undefined): void {
    const w = this.waiters.get(item.id);
    this.waiters.delete(item.id);
    w?.timer?.cancel();
    if (error) w?.reject(error);
    else if (response) w?.resolve(response);
    this.events.result(item, response, error);
  }

  /** Sends the queued requests of a device that woke up, oldest first. */
  private async flush(endpoint: string): Promise<void> {
    if (this.flushing.has(endpoint)) return;
    this.flushing.add(endpoint);
    try {
      for (;;) {
        if (!this.awake.has(endpoint) || this.closed) return;
        const item = (await this.store.peek(endpoint))[0];
        if (!item) return;
        const reg = await this.registrationOf(endpoint);
        if (!reg) return;
        let response: DeviceResponse | undefined;
        let error: M2MError | undefined;
        if (item.expiresAt <= this.scheduler.wallNow()) error = ServerErrors.queueExpired(`${endpoint}: ${item.request.kind}`);
        else {
          try {
            response = await this.dispatch(reg, item.request);
          } catch (e) {
            error = isM2MError(e) ? e : ServerErrors.badResponse((e as Error).message);
          }
        }
        if (await this.store.remove(endpoint, item.id)) this.settle(item, response, error);
      }
    } finally {
      this.flushing.delete(endpoint);
    }
  }

  /** Answers every queued request of a device with `err` (its registration ended). */
  async failAll(endpoint: string, err: M2MError): Promise<void> {
    for (const item of await this.store.clear(endpoint)) this.settle(item, undefined, err);
  }

  close(): void {
    this.closed = true;
    for (const t of this.awake.values()) t.cancel();
    this.awake.clear();
    for (const [id, w] of this.waiters) {
      w.timer?.cancel();
      w.reject(ServerErrors.deregistered('server closed'));
      this.waiters.delete(id);
    }
  }
}
