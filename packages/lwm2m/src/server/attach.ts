import { CoapEndpoint, type CoapEndpointOptions } from '@m2mhub/coap';
import type { Lwm2mServer } from './server';
import type { ServerTransport } from './transport';

/**
 * Routes a CoapEndpoint to the server: `/rd`, `/rd/<id>` and `/dp` go to
 * `server.handleRequest`, the endpoint's client role becomes a ServerTransport named `name`,
 * and the server's hooks (queue-mode wake-ups, restored observations, message log) are merged
 * into the endpoint's.
 */
export function attachCoapEndpoint(server: Lwm2mServer, endpoint: CoapEndpoint, name = 'udp'): ServerTransport {
  const t: ServerTransport = {
    name,
    kind: endpoint.transport.kind,
    request: (peer, req) => endpoint.request(peer, req),
    observe: (peer, req, handlers) => endpoint.observe(peer, req, handlers),
  };
  server.addTransport(t);
  endpoint.hooks = { ...endpoint.hooks, ...server.hooks(name) };
  const handler = (req: Parameters<Lwm2mServer['handleRequest']>[1]) => server.handleRequest(name, req);
  endpoint.route('*', '/rd', handler).route('*', '/rd/:id', handler).route('*', '/dp', handler);
  return t;
}

/**
 * A CoapEndpoint wired to the server (hooks + routes). LwM2M notifications carry no Max-Age
 * (LwM2M Core §6.4.1 relies on pmax), so observations never expire on Max-Age here.
 */
export function createServerEndpoint(server: Lwm2mServer, opts: CoapEndpointOptions, name = 'udp'): CoapEndpoint {
  const endpoint = new CoapEndpoint({ ...opts, limits: { observeExpiry: 'never', ...opts.limits } });
  attachCoapEndpoint(server, endpoint, name);
  return endpoint;
}
