export * from './attributes';
export * from './device';
export * from './endpoint';
export * from './load';
export * from './object-tree';
export * from './profiles';
