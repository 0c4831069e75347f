/**
 * The authentication hook on every API route (DESIGN.md §4). It runs at `onRequest`, before
 * any body is read, on the root instance so that every plugin registered after it (the
 * gateways' routes included) is covered. Public routes: those whose route config has
 * `public: true` (`GET /status`, `POST /login`) and the OpenAPI pages under `/api-docs`
 * (they describe the API and hold no data, as EMQX's). Unknown URLs need credentials too, so
 * a 404 does not tell an anonymous caller which routes exist.
 */
import { isM2MError, type M2MError } from '@m2mhub/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiErrors } from '../errors';
import type { ApiAuth, Principal } from './api-auth';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; null on public routes or with authentication off. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** No credentials needed for this route. */
    public?: boolean;
  }
}

/** Route config marking a route public: `app.get(url, { config: PUBLIC_ROUTE, ... })`. */
export const PUBLIC_ROUTE = { public: true } as const;
export const AUTH_REALM = 'm2mhub';

/** Sends an auth error with what RFC 7235 §4.1 / RFC 6750 §3 / RFC 6585 §4 want beside it. */
export function sendAuthError(reply: FastifyReply, err: M2MError & { retryAfterSec?: number }): FastifyReply {
  const status = err.wire.http ?? 401;
  if (status === 401) {
    const bearer = ApiErrors.badToken.is(err) ? `Bearer realm="${AUTH_REALM}", error="invalid_token"` : `Bearer realm="${AUTH_REALM}"`;
    reply.header('www-authenticate', `Basic realm="${AUTH_REALM}", charset="UTF-8", ${bearer}`);
  }
  if (status === 429 && err.retryAfterSec !== undefined) reply.header('retry-after', String(err.retryAfterSec));
  return reply.code(status).send({ code: err.code, message: err.message });
}

export function installAuthHook(app: FastifyInstance, auth: ApiAuth | undefined): void {
  app.decorateRequest('principal', null);
  if (!auth) return;
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.public === true) return;
    const url = req.routeOptions.url;
    if (url !== undefined && (url === '/api-docs' || url.startsWith('/api-docs/'))) return;
    try {
      req.principal = await auth.authenticate(req.headers.authorization, req.ip);
    } catch (err) {
      if (isM2MError(err)) return sendAuthError(reply, err);
      throw err;
    }
  });
}
