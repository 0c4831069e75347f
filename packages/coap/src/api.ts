/**
 * The public surface of @m2mhub/coap that upper layers (lwm2m, simulator, gateway) build on.
 * This file is the contract between packages: extend it, do not break it.
 */
import type { Datagram, PeerAddress, PeerIdentity } from '@m2mhub/core';

export type CoapType = 'CON' | 'NON' | 'ACK' | 'RST';
export type CoapMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'FETCH' | 'PATCH' | 'iPATCH';

export interface CoapOption {
  number: number;
  value: Uint8Array;
}

/** One CoAP message (RFC 7252 §3). `code` is "c.dd", e.g. "0.01" or "2.05"; "0.00" is Empty. */
export interface CoapMessage {
  type: CoapType;
  code: string;
  messageId: number;
  token: Uint8Array;
  options: CoapOption[];
  payload: Uint8Array;
}

/** A request that reached the server role, Block1 already reassembled. */
export interface IncomingRequest {
  method: CoapMethod;
  /** Uri-Path segments, decoded. */
  path: string[];
  /** Uri-Query values, decoded, in order ("ep=foo"). */
  query: string[];
  contentFormat?: number;
  accept?: number;
  observe?: number;
  payload: Uint8Array;
  peer: PeerAddress;
  peerKey: string;
  identity?: PeerIdentity;
  /** The (first) message of the request, for anything not lifted above. */
  message: CoapMessage;
  /** Named segments of the matched route pattern ("/rd/:id" -> { id }). */
  params?: Record<string, string>;
}

export interface OutgoingResponse {
  /** "2.05", "4.04", ... */
  code: string;
  contentFormat?: number;
  payload?: Uint8Array;
  /** Location-Path segments (RFC 7252 §5.10.7), e.g. ["rd", "a1b2"]. */
  locationPath?: string[];
  maxAge?: number;
  etag?: Uint8Array;
  /** Observe sequence number (RFC 7641 §4.1): set it to accept an observation registration. */
  observe?: number;
  /** Extra options, encoded by the caller. */
  options?: CoapOption[];
}

export type RequestHandler = (req: IncomingRequest) => Promise<OutgoingResponse> | OutgoingResponse;

/** A request the client role sends (the LwM2M server to a device). */
export interface ClientRequest {
  method: CoapMethod;
  /** "/3/0/1" or ["3", "0", "1"]. */
  path: string | string[];
  query?: string[];
  contentFormat?: number;
  accept?: number;
  payload?: Uint8Array;
  /** Default true (CON). */
  confirmable?: boolean;
  /** Overall deadline for the exchange, including retransmissions and all blocks. */
  timeoutMs?: number;
  /** Token to use (e.g. a persisted observation token); generated when absent. */
  token?: Uint8Array;
  options?: CoapOption[];
  signal?: AbortSignal;
}

export interface ClientResponse {
  code: string;
  contentFormat?: number;
  /** Reassembled from Block2 when the peer answered block-wise. */
  payload: Uint8Array;
  options: CoapOption[];
  observe?: number;
  token: Uint8Array;
  message: CoapMessage;
}

export interface Observation {
  readonly token: Uint8Array;
  /** The first response (the one that answered the Observe=0 request). */
  readonly first: ClientResponse;
  /** Active cancel sends GET with Observe=1 (RFC 7641 §3.6); passive forgets the token and RSTs the next notification. */
  cancel(mode?: 'active' | 'passive'): Promise<ClientResponse | undefined>;
}

export interface ObserveHandlers {
  /** Each fresh notification, in order (RFC 7641 §3.4 freshness rule applied). */
  onNotify(res: ClientResponse): void;
  /** The observation ended: cancelled, an error code, RST from the peer, or Max-Age expired. */
  onEnd?(reason: 'cancelled' | 'error' | 'reset' | 'expired', res?: ClientResponse): void;
}

/** What an endpoint tells its owner about traffic (queue mode wake-ups, metrics, message logs). */
export interface EndpointHooks {
  /** Every datagram that parsed as CoAP, before dispatch. */
  onActivity?(d: Datagram, msg: CoapMessage): void;
  /**
   * A notification whose token matches no live observation (e.g. one restored from the store
   * after a restart). Return true to accept it (the endpoint ACKs a CON), false to RST it.
   */
  onUnmatchedNotification?(res: ClientResponse, peer: PeerAddress, peerKey: string, identity?: PeerIdentity): boolean;
  /**
   * Server role: the client answered a NON notification sent with `notify` with RST, i.e. it
   * no longer observes that token (RFC 7641 §3.6). CON notifications report this through
   * the promise `notify` returns.
   */
  onNotificationReset?(peer: PeerAddress, token: Uint8Array): void;
}
