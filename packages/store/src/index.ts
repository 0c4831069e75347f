export * from './api';
export { EngineStore } from './engine-store';
export type { EngineOp, OrderedEngine } from './engine';
export { StoreErrors } from './errors';
export { createLevelStore, LevelEngine } from './level';
export { createMemoryStore, MemoryEngine } from './memory';
export { createRedisStore, RedisEngine, type RedisEngineOptions } from './redis';
