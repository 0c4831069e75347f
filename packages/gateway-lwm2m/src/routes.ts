/**
 * Admin API routes of the LwM2M gateway, relative to `/api/v5/gateways/lwm2m` (EMQX's paths):
 * clients (paginated), one client, kick, and per-endpoint credentials. Keys never come back.
 */
import { isM2MError } from '@m2mhub/core';
import type { GatewayRoute, GatewayRouteReply } from '@m2mhub/gateway';
import type { Lwm2mGateway } from './gateway';

function int(v: string | undefined, def: number, min: number, max: number): number {
  const n = v === undefined ? def : Number(v);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : def;
}

function errorReply(e: unknown): GatewayRouteReply {
  if (isM2MError(e)) return { status: e.wire.http ?? 400, body: { code: e.code, message: e.message } };
  throw e;
}

/** EMQX's gateway object (`GET /api/v5/gateways/lwm2m`). */
export function gatewayInfo(gw: Lwm2mGateway): Record<string, unknown> {
  const stats = gw.stats();
  return {
    name: gw.name,
    status: gw.enabled ? 'running' : 'stopped',
    enable: gw.enabled,
    current_connections: stats.clients,
    config: gw.config,
    listeners: gw.listeners(),
    stats,
  };
}

const XML_TYPES = ['application/xml', 'text/xml'];

function objectId(v: string | undefined): number | undefined {
  // LwM2M Core §7.1: object ids are 16-bit.
  return v !== undefined && /^\d{1,5}$/.test(v) && Number(v) <= 65535 ? Number(v) : undefined;
}

/**
 * Issue #5: the object definitions the gateway decodes with. List (id, name, versions, source
 * builtin/user), one model, upload an OMA object XML (live at once, kept in the store),
 * delete a user object, and re-read `xml_dir`.
 */
function objectRoutes(gw: Lwm2mGateway): GatewayRoute[] {
  const noObject = (id: string | undefined): GatewayRouteReply => ({ status: 404, body: { code: 'NOT_FOUND', message: `no object ${id}` } });
  return [
    {
      method: 'GET',
      url: '/objects',
      summary: 'Object definitions: id, name, version(s), source builtin or user (uploaded or from xml_dir)',
      handler: () => ({ status: 200, body: { data: gw.objects.list() } }),
    },
    {
      method: 'GET',
      url: '/objects/:id',
      summary: 'One object definition (latest version, or ?version=1.1) with its resources',
      handler: ({ params, query }) => {
        const id = objectId(params.id);
        const o = id === undefined ? undefined : gw.objects.get(id, query.version);
        return o ? { status: 200, body: o } : noObject(params.id);
      },
    },
    {
      method: 'POST',
      url: '/objects',
      summary: 'Add OMA object definitions (an LwM2M object XML, content-type application/xml or text/xml); kept across restarts',
      textBody: { types: XML_TYPES, maxBytes: gw.config.max_object_xml_size },
      handler: async ({ body, contentType }) => {
        if (typeof body !== 'string' || !contentType || !XML_TYPES.includes(contentType)) {
          return { status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send the object XML as application/xml or text/xml' } };
        }
        try {
          const added = await gw.objects.upload(body);
          return { status: 201, body: { data: added.map((o) => ({ id: o.id, name: o.name, version: o.version, source: 'user' })) } };
        } catch (e) {
          return errorReply(e);
        }
      },
    },
    {
      method: 'POST',
      url: '/objects/reload',
      summary: 'Re-read lwm2m.xml_dir; broken files are listed in errors',
      handler: () => {
        const r = gw.objects.reloadDir();
        return { status: 200, body: r };
      },
    },
    {
      method: 'DELETE',
      url: '/objects/:id',
      summary: 'Remove a user object (uploaded: from the store too; from xml_dir: until the next reload); a built-in definition of that id comes back',
      handler: async ({ params }) => {
        const id = objectId(params.id);
        if (id !== undefined && (await gw.objects.remove(id))) return { status: 204 };
        const builtin = id !== undefined && gw.objects.get(id) !== undefined;
        return builtin ? { status: 409, body: { code: 'BUILTIN_OBJECT', message: `object ${id} is built in and cannot be removed` } } : noObject(params.id);
      },
    },
  ];
}

const notFound: GatewayRouteReply = { status: 404, body: { code: 'CLIENT_NOT_FOUND', message: 'client not found' } };

export function gatewayRoutes(gw: Lwm2mGateway): GatewayRoute[] {
  const shortcut = (method: 'GET' | 'POST', url: string, build: (q: Record<string, string | undefined>) => Record<string, unknown>): GatewayRoute => ({
    method,
    url,
    handler: async ({ params, query }) => {
      const ep = params.ep ?? '';
      const core = gw.gatewayCore;
      if (!core) return notFound;
      if (!query.path) return { status: 400, body: { code: 'BAD_REQUEST', message: 'query parameter path is required' } };
      const payload = JSON.stringify(build(query));
      if (gw.client(ep)) await core.command(ep, payload);
      // In a cluster the device may be held by another node: the command goes there through the broker.
      else if (!(await core.forward(ep, payload))) return notFound;
      return { status: 204 };
    },
  });
  return [
    {
      method: 'GET',
      url: '',
      summary: 'The LwM2M gateway: status, config (EMQX keys), listeners, stats',
      handler: () => ({ status: 200, body: gatewayInfo(gw) }),
    },
    {
      method: 'PUT',
      url: '',
      summary: 'Enable or disable the LwM2M gateway at runtime: {"enable": true|false}',
      handler: async ({ body }) => {
        const enable = (body as { enable?: unknown } | undefined)?.enable;
        if (typeof enable !== 'boolean') return { status: 400, body: { code: 'BAD_REQUEST', message: 'body must be {"enable": true|false}' } };
        try {
          if (enable) await gw.enable();
          else await gw.disable();
        } catch (e) {
          return { status: 500, body: { code: 'START_FAILED', message: (e as Error).message } };
        }
        return { status: 200, body: gatewayInfo(gw) };
      },
    },
    {
      method: 'GET',
      url: '/clients',
      summary: 'LwM2M clients (EMQX compatible, paginated)',
      handler: ({ query }) => {
        const page = int(query.page, 1, 1, 1_000_000);
        const limit = int(query.limit, 100, 1, 10_000);
        const q: { page: number; limit: number; like_clientid?: string } = { page, limit };
        const like = query.like_clientid ?? query.like_endpoint_name;
        if (like) q.like_clientid = like;
        const { data, count } = gw.clients(q);
        return { status: 200, body: { data, meta: { page, limit, count, hasnext: page * limit < count } } };
      },
    },
    {
      method: 'GET',
      url: '/clients/:ep',
      handler: ({ params }) => {
        const c = gw.client(params.ep ?? '');
        return c ? { status: 200, body: c } : { status: 404, body: { code: 'CLIENT_NOT_FOUND', message: 'client not found' } };
      },
    },
    {
      method: 'DELETE',
      url: '/clients/:ep',
      summary: 'Kick a client (deregisters it; "kicked" on up/event)',
      handler: async ({ params }) =>
        (await gw.kick(params.ep ?? '')) ? { status: 204 } : { status: 404, body: { code: 'CLIENT_NOT_FOUND', message: 'client not found' } },
    },
    // EMQX's shortcuts: the command goes out as if published on the command topic; its reply
    // comes on the response topic (read/write/observe answer 204 at once), and lookup returns
    // the last reply recorded for that path.
    {
      method: 'GET',
      url: '/clients/:ep/lookup',
      summary: 'Last reply of `action` (discover, read, ...) on `path` for this client',
      handler: ({ params, query }) => {
        const ep = params.ep ?? '';
        if (!gw.client(ep)) return notFound;
        const path = query.path ?? '';
        const action = query.action ?? 'discover';
        const r = gw.gatewayCore?.lastResult(ep, action, path);
        if (!r) return { status: 404, body: { code: 'NOT_FOUND', message: `no ${action} result for ${path}` } };
        const data = r.data as Record<string, unknown>;
        return { status: 200, body: { clientid: ep, path, action, codeMsg: data.codeMsg, code: data.code, content: data.content ?? [] } };
      },
    },
    shortcut('GET', '/clients/:ep/read', (q) => ({ msgType: 'read', data: { path: q.path } })),
    shortcut('POST', '/clients/:ep/write', (q) => ({ msgType: 'write', data: { path: q.path, type: q.type, value: q.value } })),
    shortcut('POST', '/clients/:ep/observe', (q) => ({ msgType: q.enable === 'false' ? 'cancel-observe' : 'observe', data: { path: q.path } })),
    ...objectRoutes(gw),
    {
      method: 'GET',
      url: '/credentials',
      handler: async ({ query }) => {
        const opts: { after?: string; limit: number } = { limit: int(query.limit, 100, 1, 1000) };
        if (query.after) opts.after = query.after;
        return { status: 200, body: { data: await gw.credentials.list(opts) } };
      },
    },
    {
      method: 'PUT',
      url: '/credentials/:endpoint',
      summary: 'Set the credential of an endpoint: {"psk":{"identity","key"(hex)}}, {"rpk":{"publicKey"(base64 SPKI DER)}} or {"x509":{}}',
      handler: async ({ params, body }) => {
        try {
          return { status: 200, body: await gw.credentials.put(params.endpoint ?? '', body) };
        } catch (e) {
          return errorReply(e);
        }
      },
    },
    {
      method: 'GET',
      url: '/credentials/:endpoint',
      handler: async ({ params }) => {
        const v = await gw.credentials.get(params.endpoint ?? '');
        return v ? { status: 200, body: v } : { status: 404, body: { code: 'NOT_FOUND', message: 'no credential for this endpoint' } };
      },
    },
    {
      method: 'DELETE',
      url: '/credentials/:endpoint',
      handler: async ({ params }) =>
        (await gw.credentials.delete(params.endpoint ?? '')) ? { status: 204 } : { status: 404, body: { code: 'NOT_FOUND', message: 'no credential for this endpoint' } },
    },
  ];
}
