export { statusPlugin, type StatusPluginOptions } from './plugins/status';
export { API_PREFIX, type ApiPlugin, type ApiServerOptions, createApiServer } from './server';
export type { HubStatus, ListenerStatus } from './types';
