/**
 * What the server role, the client role and the Observe client share inside one endpoint:
 * the message layer, the injected time/randomness, limits and counters, and `apply`, which
 * carries the layer's actions out (send, timers, dispatch).
 */
import type { Datagram, Logger, Random, Scheduler } from '@m2mhub/core';
import type { CoapMessage, EndpointHooks } from './api';
import type { LayerAction, MessageLayer } from './message-layer';
import type { CoapLimits } from './params';

export interface EndpointCounters {
  requestsHandled: number;
  badOptions: number;
  handlerErrors: number;
  unmatchedResponses: number;
  notifications: number;
  staleNotifications: number;
}

export interface EndpointContext {
  readonly layer: MessageLayer;
  readonly scheduler: Scheduler;
  readonly random: Random;
  readonly logger: Logger;
  readonly limits: CoapLimits;
  /** Our preferred block size as SZX (RFC 7959 §2.2). */
  readonly ourSzx: number;
  readonly counters: EndpointCounters;
  hooks(): EndpointHooks;
  isClosed(): boolean;
  apply(out: LayerAction[]): void;
}

/** Who waits on a confirmable message we sent (the `tag` of an OutboundExchange). */
export interface Waiter {
  acked(msg: CoapMessage, d: Datagram): void;
  reset(): void;
  failed(): void;
}

export const EMPTY: Uint8Array = new Uint8Array(0);
