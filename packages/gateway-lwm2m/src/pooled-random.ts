/**
 * A Random whose `bytes` are served from a pool filled by the wrapped source: every device
 * request draws a CoAP token (RFC 7252 §5.3.1: random, hard to guess), and one crypto call per
 * token showed in profiles of the command path. The bytes are the source's (cryptographically
 * strong with the system random); each caller gets its own copy.
 */
import type { Random } from '@m2mhub/core';

export class PooledRandom implements Random {
  private pool: Uint8Array = new Uint8Array(0);
  private pos = 0;
  constructor(
    private readonly source: Random,
    /** Bytes drawn from the source at once. */
    private readonly poolSize = 4096,
  ) {}

  float(): number {
    return this.source.float();
  }

  int(maxExclusive: number): number {
    return this.source.int(maxExclusive);
  }

  bytes(length: number): Uint8Array {
    if (length * 4 > this.poolSize) return this.source.bytes(length);
    if (this.pos + length > this.pool.length) {
      this.pool = this.source.bytes(this.poolSize);
      this.pos = 0;
    }
    const out = this.pool.slice(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
}
