// Minimal typings for the Aedes persistence backends (they ship none).
declare module 'aedes-persistence-level/asyncPersistence.js' {
  const AsyncLevelPersistence: new (db: unknown) => { setup(broker: unknown): Promise<void>; destroy(): Promise<void> };
  export default AsyncLevelPersistence;
}
declare module 'aedes-persistence-redis/asyncPersistence.js' {
  const AsyncRedisPersistence: new (opts: Record<string, unknown>) => {
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
  };
  export default AsyncRedisPersistence;
}
declare module 'mqemitter-redis' {
  import type { EventEmitter } from 'node:events';
  class MQEmitterRedis {
    constructor(opts: Record<string, unknown>);
    readonly state: EventEmitter;
    close(cb: () => void): void;
  }
  export default MQEmitterRedis;
}
