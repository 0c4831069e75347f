export * from './fake-clock';
export * from './shared-dir';
export * from './peers';
