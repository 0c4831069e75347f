/**
 * `POST /users/{username}/change_pwd` `{old_pwd, new_pwd}` (EMQX's route): an admin user
 * changes its own password, e.g. the generated one from the first start. The old password
 * is checked like a login (rate limited); the change revokes the user's tokens. 204.
 */
import { isM2MError } from '@m2mhub/core';
import type { FastifyPluginAsync } from 'fastify';
import { MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH } from '../auth/admin-users';
import type { ApiAuth } from '../auth/api-auth';
import { sendAuthError } from '../auth/hook';
import { ApiErrors } from '../errors';

export interface UsersPluginOptions {
  auth: ApiAuth;
  /** Shortest new password (default 8, as `admin_password`). */
  minPasswordLength?: number;
}

export const usersPlugin: FastifyPluginAsync<UsersPluginOptions> = async (app, opts) => {
  const min = opts.minPasswordLength ?? 8;
  app.post<{ Params: { username: string }; Body: { old_pwd: string; new_pwd: string } }>(
    '/users/:username/change_pwd',
    {
      schema: {
        tags: ['auth'],
        summary: "Change an admin user's own password (revokes its tokens)",
        params: { type: 'object', required: ['username'], properties: { username: { type: 'string', maxLength: MAX_USERNAME_LENGTH } } },
        body: {
          type: 'object',
          required: ['old_pwd', 'new_pwd'],
          properties: { old_pwd: { type: 'string', maxLength: MAX_PASSWORD_LENGTH }, new_pwd: { type: 'string', minLength: min, maxLength: MAX_PASSWORD_LENGTH } },
        },
      },
    },
    async (req, reply) => {
      const who = req.principal;
      if (who && (who.kind === 'api_key' || who.name !== req.params.username)) throw ApiErrors.forbidden('an admin user changes its own password');
      try {
        // Same check, limiter and error as a login.
        await opts.auth.login(req.params.username, req.body.old_pwd, req.ip);
      } catch (err) {
        if (isM2MError(err)) return sendAuthError(reply, err);
        throw err;
      }
      await opts.auth.users.setPassword(req.params.username, req.body.new_pwd);
      return reply.code(204).send();
    },
  );
};
