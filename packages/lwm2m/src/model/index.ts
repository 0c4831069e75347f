export * from './object-registry';
export * from './types';
export * from './xml';
