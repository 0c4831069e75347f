import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonExact } from '../src/codec/json';
import { ContentFormat, defaultCodecs } from '../src/index';
import { ctx, typedError } from './codec-helpers';

describe('bounded JSON parser (RFC 8259) for the JSON formats', () => {
  it('RFC 8259: parses what JSON.parse parses, with integers beyond 2^53-1 as bigint', () => {
    const docs = ['{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n\\"\\\\\\/"],"b":{}}', '[]', ' 0 ', '"\\ud83d\\ude00"', '[1e400]'];
    for (const d of docs) assert.deepEqual(parseJsonExact(d, 't'), JSON.parse(d), d);
    assert.deepEqual(parseJsonExact('[9007199254740993,-9223372036854775808,18446744073709551615,9007199254740991]', 't'), [
      9007199254740993n,
      -9223372036854775808n,
      18446744073709551615n,
      9007199254740991,
    ]);
  });
  it('RFC 8259: malformed JSON and deep nesting are typed errors', () => {
    for (const d of ['', '{', '[1,]', '{"a" 1}', '01', '1.', '"abc', '"\u0001"', '"\\x"', '[1] x', 'tru', '{"a":1,}', '-', '"\\u12"']) {
      assert.throws(() => parseJsonExact(d, 't'), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']), JSON.stringify(d));
    }
    assert.throws(() => parseJsonExact('['.repeat(10_000), 't'), typedError(['M2M_LWM2M_PAYLOAD_LIMIT']));
    assert.throws(() => parseJsonExact('{"a":'.repeat(10_000), 't'), typedError(['M2M_LWM2M_PAYLOAD_LIMIT']));
  });
  it('LwM2M 1.1 Core §7.4.4: a 64-bit Integer in SenML JSON keeps its precision', () => {
    const c = defaultCodecs().get(ContentFormat.SENML_JSON);
    assert.ok(c);
    const got = c.decode(new TextEncoder().encode('[{"n":"/3/0/9","v":9223372036854775807}]'), ctx('/3/0/9'));
    assert.deepEqual(got, [{ path: '/3/0/9', value: 9223372036854775807n, type: 'integer' }]);
    assert.throws(
      () => c.decode(new TextEncoder().encode('[{"n":"/3/0/9","v":9223372036854775808}]'), ctx('/3/0/9')),
      typedError(['M2M_LWM2M_TYPE_MISMATCH']),
    );
  });
});
