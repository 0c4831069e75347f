import type {
  ClientRequest,
  ClientResponse,
  CoapMessage,
  EndpointHooks,
  IncomingRequest,
  Observation,
  ObserveHandlers,
  OutgoingResponse,
} from '@m2mhub/coap';
import type { PeerAddress } from '@m2mhub/core';

/**
 * What the LwM2M server needs from one CoAP endpoint (a UDP or DTLS listener): the client
 * role to reach devices. The server role is wired the other way: the owner routes incoming
 * requests to `Lwm2mServer.handleRequest` and the endpoint hooks to `Lwm2mServer.hooks()`.
 * `attachCoapEndpoint` does both for @m2mhub/coap's CoapEndpoint.
 */
export interface ServerTransport {
  /** Listener name, stored in each registration ("udp", "dtls"...). */
  readonly name: string;
  readonly kind: 'udp' | 'dtls' | 'memory';
  request(peer: PeerAddress, req: ClientRequest): Promise<ClientResponse>;
  /** Sends `req` with Observe=0 (RFC 7641 §3.1) and keeps the observation. */
  observe(peer: PeerAddress, req: ClientRequest, handlers: ObserveHandlers): Promise<Observation>;
}

export type { ClientRequest, ClientResponse, CoapMessage, EndpointHooks, IncomingRequest, OutgoingResponse };
