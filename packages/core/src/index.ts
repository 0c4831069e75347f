export * from './bytes';
export * from './clock';
export * from './errors';
export * from './events';
export * from './logger';
export * from './system';
export * from './transport';
