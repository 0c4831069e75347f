/**
 * The default Random with its `bytes()` served from a pool refilled by one CSPRNG call
 * (node:crypto randomFillSync), as node's own randomUUID does: a handshake draws three small
 * values (server random, session id, connection id) and one native call each cost ~2 us.
 * Every byte is handed out once; callers get their own copy. Injected Randoms (tests' seeded
 * ones) are used as they are.
 */
import { randomFillSync } from 'node:crypto';
import type { Random } from '@m2mhub/core';
import { systemRandom } from '@m2mhub/core';

const shared = new Map<number, Random>();

/** One pool per size for the whole process (clients are many and short-lived). */
export function pooledSystemRandom(poolSize: number): Random {
  if (poolSize <= 0) return systemRandom;
  let r = shared.get(poolSize);
  if (!r) {
    r = createPool(poolSize);
    shared.set(poolSize, r);
  }
  return r;
}

function createPool(poolSize: number): Random {
  const pool = new Uint8Array(poolSize);
  let pos = poolSize;
  return {
    float: () => systemRandom.float(),
    int: (max: number) => systemRandom.int(max),
    bytes(n: number): Uint8Array {
      if (n > poolSize / 4) return systemRandom.bytes(n);
      if (pos + n > poolSize) {
        randomFillSync(pool);
        pos = 0;
      }
      const out = pool.slice(pos, pos + n);
      // Wipe what was handed out so no copy of it stays in the pool.
      pool.fill(0, pos, pos + n);
      pos += n;
      return out;
    },
  };
}
