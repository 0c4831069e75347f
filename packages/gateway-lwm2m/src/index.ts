export * from './auto-observe';
export * from './command';
export * from './config';
export * from './errors';
export * from './reginfo';
export * from './reply';
export * from './topics';
export * from './values';
