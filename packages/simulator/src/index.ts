export * from './attributes';
export * from './device';
export * from './dtls';
export * from './endpoint';
export * from './load';
export * from './object-tree';
export * from './profiles';
