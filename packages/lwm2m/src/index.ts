export * from './codec/index';
export * from './model/index';
export * from './node/index';
export * from './registry/index';
export * from './server/index';
export * from './bootstrap/index';
