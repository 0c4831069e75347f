export * from './config/index';
export type { HubContext, ListenerStatus } from './context';
export { HubErrors } from './errors';
export { HUB_VERSION, type HubDeps, type HubHandle, startHub } from './hub';
export { createLogger } from './logger';
