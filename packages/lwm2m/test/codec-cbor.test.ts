import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CborTag, decodeCbor, encodeCbor } from '../src/index';
import { hex, toHexStr, typedError } from './codec-helpers';

// RFC 8949 Appendix A examples (value, preferred encoding).
const VECTORS: [unknown, string][] = [
  [0, '00'],
  [1, '01'],
  [10, '0a'],
  [23, '17'],
  [24, '1818'],
  [25, '1819'],
  [100, '1864'],
  [1000, '1903e8'],
  [1000000, '1a000f4240'],
  [1000000000000, '1b000000e8d4a51000'],
  [18446744073709551615n, '1bffffffffffffffff'],
  [-18446744073709551616n, '3bffffffffffffffff'],
  [-1, '20'],
  [-10, '29'],
  [-100, '3863'],
  [-1000, '3903e7'],
  [-0, 'f98000'],
  [1.1, 'fb3ff199999999999a'],
  [1.5, 'f93e00'],
  [100000.5, 'fa47c35040'],
  [(2 - 2 ** -23) * 2 ** 127, 'fa7f7fffff'],
  [1.0e300, 'fb7e37e43c8800759c'],
  [2 ** -24, 'f90001'],
  [0.00006103515625, 'f90400'],
  [-4.1, 'fbc010666666666666'],
  [Number.POSITIVE_INFINITY, 'f97c00'],
  [Number.NaN, 'f97e00'],
  [Number.NEGATIVE_INFINITY, 'f9fc00'],
  [false, 'f4'],
  [true, 'f5'],
  [null, 'f6'],
  [undefined, 'f7'],
  [new Uint8Array([1, 2, 3, 4]), '4401020304'],
  ['', '60'],
  ['a', '6161'],
  ['IETF', '6449455446'],
  ['\u00fc', '62c3bc'],
  ['\u6c34', '63e6b0b4'],
  [[], '80'],
  [[1, 2, 3], '83010203'],
  [[1, [2, 3], [4, 5]], '8301820203820405'],
];

describe('CBOR (RFC 8949)', () => {
  it('RFC 8949 Appendix A: encodes the preferred serialization and decodes it back', () => {
    for (const [v, h] of VECTORS) {
      assert.equal(toHexStr(encodeCbor(v as never)), h, `encode ${String(v)}`);
      const d = decodeCbor(hex(h));
      if (typeof v === 'number' && Number.isNaN(v)) assert.ok(Number.isNaN(d as number));
      else assert.deepEqual(d, v, `decode ${h}`);
    }
  });
  it('RFC 8949 Appendix A: decodes non-preferred floats, maps, tags and indefinite lengths', () => {
    assert.equal(decodeCbor(hex('f97bff')), 65504);
    assert.equal(decodeCbor(hex('fa47c35000')), 100000);
    assert.equal(decodeCbor(hex('f9c400')), -4);
    assert.equal(decodeCbor(hex('fb3ff0000000000000')), 1);
    assert.deepEqual(decodeCbor(hex('a201020304')), new Map([[1, 2], [3, 4]]));
    assert.deepEqual(decodeCbor(hex('a26161016162820203')), new Map<unknown, unknown>([['a', 1], ['b', [2, 3]]]));
    assert.deepEqual(decodeCbor(hex('c11a514b67b0')), new CborTag(1, 1363896240));
    assert.deepEqual(decodeCbor(hex('5f42010243030405ff')), new Uint8Array([1, 2, 3, 4, 5]));
    assert.equal(decodeCbor(hex('7f657374726561646d696e67ff')), 'streaming');
    assert.deepEqual(decodeCbor(hex('9f018202039f0405ffff')), [1, [2, 3], [4, 5]]);
    assert.deepEqual(decodeCbor(hex('83018202039f0405ff')), [1, [2, 3], [4, 5]]);
    assert.deepEqual(decodeCbor(hex('bf61610161629f0203ffff')), new Map<unknown, unknown>([['a', 1], ['b', [2, 3]]]));
    assert.equal(decodeCbor(hex('1b0020000000000000')), 2n ** 53n);
    assert.equal(decodeCbor(hex('1b001fffffffffffff')), Number.MAX_SAFE_INTEGER);
  });
  it('RFC 8949 §4.2.1: map keys are sorted by their encoded bytes (deterministic)', () => {
    const a = encodeCbor(new Map<number | string, number>([['b', 1], [10, 2], [-1, 3], ['a', 4], [100, 5]]));
    const b = encodeCbor(new Map<number | string, number>([[100, 5], ['a', 4], [-1, 3], [10, 2], ['b', 1]]));
    assert.equal(toHexStr(a), toHexStr(b));
    assert.equal(toHexStr(a), 'a50a021864052003616104616201');
  });
  it('RFC 8949 §5.3: malformed input gives typed errors', () => {
    const cases = [
      '', // empty
      '18', // missing argument byte
      '1c', // reserved additional info
      '62c3', // text shorter than declared
      '62c328', // invalid UTF-8
      'ff', // break outside indefinite item
      '0101', // trailing bytes
      'a10102a1', // truncated after first map
      'a20102', // map missing an entry
      '5f01ff', // bad chunk in indefinite bytes
      '9f01', // unterminated indefinite array
      'f8ff', // unsupported simple value
      'a2010101ff', // garbage
      'a201020103', // duplicate key
    ];
    for (const h of cases) assert.throws(() => decodeCbor(hex(h)), typedError(), h);
  });
  it('limits: 10,000-deep nesting, huge declared lengths and item counts are refused without allocating', () => {
    const deep = new Uint8Array(10_001).fill(0x81);
    deep[10_000] = 0;
    assert.throws(() => decodeCbor(deep), typedError(['M2M_LWM2M_PAYLOAD_LIMIT']));
    const deepIndef = new Uint8Array(10_000).fill(0x9f);
    assert.throws(() => decodeCbor(deepIndef), typedError(['M2M_LWM2M_PAYLOAD_LIMIT']));
    assert.throws(() => decodeCbor(hex('5bffffffffffffffff')), typedError(['M2M_LWM2M_PAYLOAD_LIMIT']));
    assert.throws(() => decodeCbor(hex('5a7fffffff00')), typedError(['M2M_LWM2M_PAYLOAD_LIMIT']));
    assert.throws(() => decodeCbor(hex('9bffffffffffffffff')), typedError());
    assert.throws(() => decodeCbor(hex('9a7fffffff00')), typedError());
    assert.throws(() => decodeCbor(hex('ba7fffffff00')), typedError());
    assert.throws(() => decodeCbor(hex('83010203'), { maxItems: 3 }), typedError(['M2M_LWM2M_PAYLOAD_LIMIT']));
    assert.throws(() => decodeCbor(hex('6449455446'), { maxStringBytes: 3 }), typedError(['M2M_LWM2M_PAYLOAD_LIMIT']));
    assert.throws(() => decodeCbor(hex('c11a514b67b0'), { tags: 'reject' }), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
  });
});
