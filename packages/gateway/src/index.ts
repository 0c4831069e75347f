export * from './errors';
export * from './registry';
export * from './topic';
export * from './types';
