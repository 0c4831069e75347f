export * from './bootstrap-server';
export * from './config';
export * from './json';
