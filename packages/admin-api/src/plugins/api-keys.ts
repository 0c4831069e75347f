/**
 * API keys (DESIGN.md §4, EMQX's `/api_key`): create (the secret is in this answer only), list
 * (never a secret), delete. Managing keys needs an admin user or token: a leaked API key
 * cannot mint itself new ones (403).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ApiAuth } from '../auth/api-auth';
import { ApiErrors } from '../errors';

export interface ApiKeysPluginOptions {
  auth: ApiAuth;
}

const keyInfo = {
  type: 'object',
  required: ['name', 'api_key', 'created_at'],
  properties: { name: { type: 'string' }, api_key: { type: 'string' }, created_at: { type: 'string', format: 'date-time' } },
} as const;
const nameSchema = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } as const;

function requireAdmin(req: FastifyRequest): void {
  if (req.principal?.kind === 'api_key') throw ApiErrors.forbidden('API keys are managed by admin users');
}

export const apiKeysPlugin: FastifyPluginAsync<ApiKeysPluginOptions> = async (app, opts) => {
  app.post<{ Body: { name: string } }>(
    '/api_key',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API key; api_secret is shown in this answer only',
        body: { type: 'object', required: ['name'], properties: { name: nameSchema } },
        response: { 200: { ...keyInfo, required: [...keyInfo.required, 'api_secret'], properties: { ...keyInfo.properties, api_secret: { type: 'string' } } } },
      },
    },
    async (req) => {
      requireAdmin(req);
      return opts.auth.keys.create(req.body.name);
    },
  );
  app.get('/api_key', { schema: { tags: ['auth'], summary: 'API keys (without secrets)', response: { 200: { type: 'array', items: keyInfo } } } }, async (req) => {
    requireAdmin(req);
    return opts.auth.keys.list();
  });
  app.delete<{ Params: { name: string } }>(
    '/api_key/:name',
    { schema: { tags: ['auth'], summary: 'Delete an API key', params: { type: 'object', required: ['name'], properties: { name: nameSchema } } } },
    async (req, reply) => {
      requireAdmin(req);
      await opts.auth.keys.delete(req.params.name);
      return reply.code(204).send();
    },
  );
};
