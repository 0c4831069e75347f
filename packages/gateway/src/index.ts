export * from './errors';
export * from './memory-kv';
export * from './registry';
export * from './topic';
export * from './types';
