import { CodecRegistry } from './codec-registry';

export * from './codec-registry';
export * from './types';

/** A registry holding every built-in codec. */
export function defaultCodecs(): CodecRegistry {
  const r = new CodecRegistry();
  return r;
}
