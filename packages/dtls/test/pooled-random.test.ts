import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toHex } from '@m2mhub/core';
import { pooledSystemRandom } from '../src/pooled-random';

describe('pooled system random', () => {
  it('RFC 5246 §7.4.1.2: handshake randoms from the pool are never handed out twice and are caller-owned copies', () => {
    const r = pooledSystemRandom(256);
    const seen = new Set<string>();
    // Several refills of the pool: 32-byte values as server randoms and session ids are drawn.
    for (let i = 0; i < 100; i++) {
      const v = r.bytes(32);
      assert.equal(v.length, 32);
      const hex = toHex(v);
      assert.ok(!seen.has(hex), 'a value repeated');
      seen.add(hex);
    }
    const a = r.bytes(16);
    const copy = toHex(a);
    r.bytes(16);
    assert.equal(toHex(a), copy, 'a later draw changed an earlier value');
  });

  it('large draws bypass the pool, size 0 disables it, one pool per size is shared', () => {
    const r = pooledSystemRandom(256);
    assert.equal(r.bytes(200).length, 200);
    assert.equal(r.bytes(0).length, 0);
    assert.equal(pooledSystemRandom(256), r);
    assert.equal(pooledSystemRandom(0).bytes(8).length, 8);
    assert.ok(r.int(10) >= 0 && r.int(10) < 10);
  });
});
