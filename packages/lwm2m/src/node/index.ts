export * from './errors';
export * from './path';
export * from './value';
