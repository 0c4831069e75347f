import { FakeScheduler, SeededRandom } from '@m2mhub/core/testing';
import type { CoapMessage } from '../src/api';
import { parseMessage } from '../src/codec';
import { CoapEndpoint, type CoapEndpointOptions } from '../src/endpoint';
import { MemoryNetwork, type NetworkConditions } from '../src/memory-transport';

export function fakeNet(seed = 1, conditions: Partial<NetworkConditions> = {}) {
  const scheduler = new FakeScheduler();
  const random = new SeededRandom(seed);
  const network = new MemoryNetwork(scheduler, random, conditions);
  const endpoint = async (opts: Partial<CoapEndpointOptions> = {}) => {
    const ep = new CoapEndpoint({ transport: network.transport(), scheduler, random, ...opts });
    await ep.start();
    return ep;
  };
  /** Advances fake time in steps until `p` settles (or `maxMs` passes), letting promise callbacks run between steps. */
  const drive = async <T>(p: Promise<T>, stepMs = 10, maxMs = 600_000): Promise<T> => {
    let settled = false;
    const q = p.finally(() => {
      settled = true;
    });
    q.catch(() => {});
    for (let t = 0; !settled && t < maxMs; t += stepMs) {
      await flush();
      if (settled) break;
      scheduler.advance(stepMs);
    }
    await flush();
    return q;
  };
  return { scheduler, random, network, endpoint, drive };
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export function decoded(data: Uint8Array): CoapMessage {
  return parseMessage(data);
}
