/**
 * GET /status: 200 once every enabled listener accepts traffic, 503 before (and while
 * stopping), with the listener list either way. Used by the Docker HEALTHCHECK.
 */
import type { FastifyPluginAsync } from 'fastify';
import { PUBLIC_ROUTE } from '../auth/hook';
import type { HubStatus } from '../types';

export interface StatusPluginOptions {
  status: () => HubStatus;
}

const listenerSchema = {
  type: 'object',
  required: ['name', 'protocol', 'transport', 'bind', 'port', 'enabled', 'up'],
  properties: {
    name: { type: 'string', description: 'listener id, e.g. mqtt:tcp' },
    protocol: { type: 'string' },
    transport: { type: 'string' },
    bind: { type: 'string' },
    port: { type: 'integer' },
    enabled: { type: 'boolean' },
    up: { type: 'boolean' },
    path: { type: 'string' },
    error: { type: 'string' },
  },
} as const;

const statusSchema = {
  type: 'object',
  required: ['status', 'version', 'uptime', 'listeners'],
  properties: {
    status: { type: 'string', enum: ['running', 'starting'] },
    version: { type: 'string' },
    uptime: { type: 'number', description: 'seconds since start' },
    listeners: { type: 'array', items: listenerSchema },
  },
} as const;

export const statusPlugin: FastifyPluginAsync<StatusPluginOptions> = async (app, opts) => {
  app.get(
    '/status',
    {
      // Public, as EMQX's /status: the Docker HEALTHCHECK and load balancers call it without credentials.
      config: PUBLIC_ROUTE,
      schema: {
        tags: ['status'],
        security: [],
        summary: 'Hub status: every listener and whether it is up',
        response: { 200: statusSchema, 503: statusSchema },
      },
    },
    async (_req, reply) => {
      const s = opts.status();
      const ready = s.listeners.every((l) => !l.enabled || l.up);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'running' : 'starting', ...s });
    },
  );
};
