export * from './config/index';
export type { HubContext, ListenerStatus } from './context';
export { HUB_VERSION, type HubDeps, type HubHandle, startHub } from './hub';
