import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteReader, ByteWriter, CoreErrors, defineError, fromHex, listErrors, toHex } from '../src/index';
import { FakeScheduler, SeededRandom } from '../src/testing/index';

describe('core', () => {
  it('ByteReader refuses to read past the end with a typed error', () => {
    const r = new ByteReader(new Uint8Array([1, 2, 3]));
    assert.equal(r.u16(), 0x0102);
    assert.throws(() => r.u16(), (e: unknown) => CoreErrors.bufferUnderflow.is(e));
    assert.throws(() => new ByteReader(new Uint8Array([5, 1])).vector(1), (e: unknown) => CoreErrors.bufferUnderflow.is(e));
  });
  it('ByteWriter and ByteReader round-trip every width', () => {
    const w = new ByteWriter(1).u8(0xfe).u16(0xbeef).u24(0x123456).u32(0xdeadbeef).u48(0x123456789abc).vector(2, fromHex('aabb'));
    const r = new ByteReader(w.finish());
    assert.deepEqual([r.u8(), r.u16(), r.u24(), r.u32(), r.u48(), toHex(r.vector(2))], [0xfe, 0xbeef, 0x123456, 0xdeadbeef, 0x123456789abc, 'aabb']);
    assert.equal(r.remaining, 0);
  });
  it('error codes are unique, well formed and listed', () => {
    assert.throws(() => defineError('BAD', 'x'));
    assert.throws(() => defineError('M2M_CORE_TIMEOUT', 'another meaning'));
    assert.ok(listErrors().some((d) => d.code === 'M2M_CORE_TIMEOUT'));
    const e = CoreErrors.limitExceeded('too big');
    assert.equal(e.code, 'M2M_CORE_LIMIT_EXCEEDED');
    assert.equal(e.wire.coap, '4.13');
  });
  it('FakeScheduler fires timers in time order, including ones scheduled by timers', () => {
    const s = new FakeScheduler();
    const seen: string[] = [];
    s.setTimeout(() => seen.push('b'), 20);
    s.setTimeout(() => {
      seen.push('a');
      s.setTimeout(() => seen.push('c'), 15);
    }, 10);
    const cancelled = s.setTimeout(() => seen.push('x'), 5);
    cancelled.cancel();
    s.advance(24);
    assert.deepEqual(seen, ['a', 'b']);
    s.advance(1);
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.equal(s.now(), 25);
  });
  it('SeededRandom is deterministic', () => {
    assert.deepEqual(new SeededRandom(7).bytes(8), new SeededRandom(7).bytes(8));
  });
});
