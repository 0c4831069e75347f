/**
 * The REST API app factory (DESIGN.md §4): Fastify, one encapsulated plugin per resource
 * under `/api/v5`, JSON schemas on every route, OpenAPI at `/api-docs`. Other packages add
 * resources by passing plugins: `createApiServer({ plugins: [{ plugin, options }] })`.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { isM2MError, type Logger, silentLogger } from '@m2mhub/core';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { ApiAuth } from './auth/api-auth';
import { installAuthHook } from './auth/hook';
import { apiKeysPlugin } from './plugins/api-keys';
import { loginPlugin } from './plugins/login';
import { statusPlugin } from './plugins/status';
import { usersPlugin } from './plugins/users';
import type { HubStatus } from './types';

export interface ApiPlugin {
  // biome-ignore lint/suspicious/noExplicitAny: each plugin brings its own options type
  plugin: FastifyPluginAsync<any>;
  options?: Record<string, unknown>;
  /** Mount point under the API prefix ("" by default). */
  prefix?: string;
}

export interface ApiServerOptions {
  status: () => HubStatus;
  /**
   * Who may call (DESIGN.md §4): `ApiAuth.open(...)`, or `false` for an open API (development
   * only: `api.auth.enabled = false`). Required, so no caller gets an open API by omission.
   */
  auth: ApiAuth | false;
  plugins?: ApiPlugin[];
  /** Route prefix (default `/api/v5`). */
  prefix?: string;
  /** Serve OpenAPI JSON and Swagger UI at `/api-docs` (default true). */
  docs?: boolean;
  /** Largest request body in bytes. */
  bodyLimit?: number;
  logger?: Logger;
}

export const API_PREFIX = '/api/v5';

export async function createApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  const log = opts.logger ?? silentLogger;
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimit ?? 1024 * 1024, forceCloseConnections: true });
  const prefix = opts.prefix ?? API_PREFIX;
  if (opts.docs !== false) {
    await app.register(swagger, {
      openapi: {
        info: { title: 'm2mhub REST API', version: 'v5' },
        servers: [],
        components: {
          securitySchemes: {
            basicAuth: { type: 'http', scheme: 'basic', description: 'admin user, or api_key:api_secret' },
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'token from POST /api/v5/login' },
          },
        },
        security: opts.auth ? [{ basicAuth: [] }, { bearerAuth: [] }] : [],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/api-docs' });
  }
  app.setErrorHandler((err, req, reply) => {
    if (isM2MError(err)) {
      return reply.code(err.wire.http ?? 500).send({ code: err.code, message: err.message });
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) log.error({ err, url: req.url.split('?')[0] }, 'API request failed');
    // V8's JSON.parse messages quote the input: never echo a body (it may hold a password).
    const message = status >= 500 ? 'internal error' : err instanceof SyntaxError ? 'body is not valid JSON' : (err as Error).message;
    return reply.code(status).send({ code: (err as { code?: string }).code ?? 'M2M_API_ERROR', message });
  });
  installAuthHook(app, opts.auth || undefined);
  await app.register(statusPlugin, { prefix, status: opts.status });
  if (opts.auth) {
    await app.register(loginPlugin, { prefix, auth: opts.auth });
    await app.register(apiKeysPlugin, { prefix, auth: opts.auth });
    await app.register(usersPlugin, { prefix, auth: opts.auth });
  }
  for (const p of opts.plugins ?? []) {
    await app.register(p.plugin, { ...(p.options ?? {}), prefix: `${prefix}${p.prefix ?? ''}` });
  }
  return app;
}
