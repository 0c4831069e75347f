/** `POST /login` `{username, password}` -> `{token, expires_in}` (DESIGN.md §4): a Bearer token for an admin user. */
import { isM2MError } from '@m2mhub/core';
import type { FastifyPluginAsync } from 'fastify';
import { MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH } from '../auth/admin-users';
import type { ApiAuth } from '../auth/api-auth';
import { PUBLIC_ROUTE, sendAuthError } from '../auth/hook';

export interface LoginPluginOptions {
  auth: ApiAuth;
}

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

export const loginPlugin: FastifyPluginAsync<LoginPluginOptions> = async (app, opts) => {
  app.post<{ Body: { username: string; password: string } }>(
    '/login',
    {
      config: PUBLIC_ROUTE,
      schema: {
        tags: ['auth'],
        summary: 'Log in as an admin user: a Bearer token for the other routes',
        security: [],
        body: {
          type: 'object',
          required: ['username', 'password'],
          properties: {
            username: { type: 'string', minLength: 1, maxLength: MAX_USERNAME_LENGTH },
            password: { type: 'string', maxLength: MAX_PASSWORD_LENGTH },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['token', 'expires_in'],
            properties: { token: { type: 'string' }, expires_in: { type: 'integer', description: 'seconds' } },
          },
          401: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (req, reply) => {
      try {
        return await opts.auth.login(req.body.username, req.body.password, req.ip);
      } catch (err) {
        if (isM2MError(err)) return sendAuthError(reply, err);
        throw err;
      }
    },
  );
};
