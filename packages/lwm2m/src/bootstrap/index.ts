export * from './bootstrap-server';
export * from './config';
