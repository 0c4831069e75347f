import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ResourceValue, defaultCodecs } from '../src/index';
import { ctx, payloadsOf, readFrames, typedError } from './codec-helpers';

const codecs = defaultCodecs();
const FORMATS = new Set([0, 40, 42, 60, 110, 112, 11542, 11543, 11544]);
const FILES = [
  'anjay-client-accept.jsonl',
  'anjay-client-block2-stall.jsonl',
  'anjay-client.jsonl',
  'wakaama-client-accept.jsonl',
  'wakaama-client-blockwise.jsonl',
  'wakaama-client.jsonl',
];
const strip = (vs: ResourceValue[]) => vs.map((v) => ({ path: v.path, value: v.value }));

function decodeFrame(file: string, frame: number): ResourceValue[] {
  const p = payloadsOf(file).find((x) => x.frame === frame);
  assert.ok(p, `${file} frame ${frame} has a payload`);
  const c = codecs.get(p.format);
  assert.ok(c, `codec for ${p.format}`);
  return c.decode(p.payload, ctx(p.path));
}

describe('real client captures (shared/fixtures/real-clients)', () => {
  for (const file of FILES) {
    it(`${file}: every payload in formats 0/40/42/60/110/112/11542/11543/11544 decodes, typed by the registry`, () => {
      let n = 0;
      for (const p of payloadsOf(file)) {
        if (!FORMATS.has(p.format)) continue;
        const c = codecs.get(p.format);
        assert.ok(c);
        const values = c.decode(p.payload, ctx(p.path));
        n++;
        for (const v of values) {
          const oid = Number(v.path.split('/')[1]);
          // Objects of the registry come out typed; Anjay/Wakaama test objects (33605, 31024) are not in it.
          if (oid < 10000 || oid === 3303) assert.ok(v.type, `${file} frame ${p.frame}: ${v.path} has a type`);
        }
      }
      assert.ok(n > 0);
    });
  }
  it('anjay-client-accept.jsonl frames 4, 6, 8, 10, 12, 14: Read /3/0 in SenML CBOR, TLV, SenML JSON, SenML CBOR, LwM2M CBOR, LwM2M JSON all decode to the same values', () => {
    const tlv = decodeFrame('anjay-client-accept.jsonl', 6);
    assert.equal(tlv.length, 20);
    assert.deepEqual(tlv.find((v) => v.path === '/3/0/22/0'), {
      path: '/3/0/22/0',
      value: { objectId: 33606, instanceId: 0 },
      type: 'objlnk',
    });
    assert.deepEqual(tlv.find((v) => v.path === '/3/0/13'), { path: '/3/0/13', value: 1795620084, type: 'time' });
    for (const frame of [4, 8, 10, 12, 14]) {
      assert.deepEqual(decodeFrame('anjay-client-accept.jsonl', frame), tlv, `frame ${frame}`);
    }
  });
  it('anjay-client-accept.jsonl frames 18/22/24 and 26/28: /3/0/0 and /3/0/9 as text/plain, CBOR and SenML CBOR', () => {
    for (const frame of [18, 22, 24]) {
      assert.deepEqual(decodeFrame('anjay-client-accept.jsonl', frame), [{ path: '/3/0/0', value: 'anjay', type: 'string' }]);
    }
    for (const frame of [26, 28]) {
      assert.deepEqual(decodeFrame('anjay-client-accept.jsonl', frame), [{ path: '/3/0/9', value: 0, type: 'integer' }]);
    }
  });
  it('anjay-client-accept.jsonl frames 30/32/34 and 36/38: multi-instance /3/0/7 and /3303/0 agree across SenML JSON, SenML CBOR, LwM2M CBOR', () => {
    for (const frame of [30, 32, 34]) {
      assert.deepEqual(strip(decodeFrame('anjay-client-accept.jsonl', frame)), [{ path: '/3/0/7/0', value: 32264 }]);
    }
    const a = decodeFrame('anjay-client-accept.jsonl', 36);
    assert.deepEqual(decodeFrame('anjay-client-accept.jsonl', 38), a);
    assert.ok(a.every((v) => v.type === 'float' || v.type === 'string'));
  });
  it('anjay-client-accept.jsonl frames 39/41: Read-Composite request paths; frames 40/42: the responses', () => {
    const p39 = payloadsOf('anjay-client-accept.jsonl').find((p) => p.frame === 39);
    const p41 = payloadsOf('anjay-client-accept.jsonl').find((p) => p.frame === 41);
    assert.ok(p39 && p41);
    assert.deepEqual(codecs.get(110)?.decodePaths?.(p39.payload).map(String), ['/3/0/0', '/3303/0/5700']);
    assert.deepEqual(codecs.get(112)?.decodePaths?.(p41.payload).map(String), ['/3/0/0', '/3303/0/5700']);
    const expect = [
      { path: '/3/0/0', value: 'anjay' },
      { path: '/3303/0/5700', value: 13 },
    ];
    assert.deepEqual(strip(decodeFrame('anjay-client-accept.jsonl', 40)), expect);
    assert.deepEqual(strip(decodeFrame('anjay-client-accept.jsonl', 42)), expect);
  });
  it('anjay-client.jsonl frame 79: SenML CBOR Send with base time (bt, key -3, float64)', () => {
    assert.deepEqual(decodeFrame('anjay-client.jsonl', 79), [
      { path: '/3/0/0', value: 'anjay', type: 'string', time: 1795619918.1004303 },
      { path: '/3/0/9', value: 0, type: 'integer', time: 1795619918.1004303 },
    ]);
  });
  it('wakaama-client.jsonl frame 4: SenML JSON Read /3/0 with "bn":"/3/0/","n":"0" naming', () => {
    assert.deepEqual(strip(decodeFrame('wakaama-client.jsonl', 4)), [
      { path: '/3/0/0', value: 'Open Mobile Alliance' },
      { path: '/3/0/1', value: 'Lightweight M2M Client' },
      { path: '/3/0/2', value: '345000123' },
      { path: '/3/0/3', value: '1.0' },
      { path: '/3/0/6/0', value: 1 },
      { path: '/3/0/6/1', value: 5 },
      { path: '/3/0/7/0', value: 3800 },
      { path: '/3/0/7/1', value: 5000 },
      { path: '/3/0/8/0', value: 125 },
      { path: '/3/0/8/1', value: 900 },
      { path: '/3/0/9', value: 100 },
      { path: '/3/0/10', value: 15 },
      { path: '/3/0/11/0', value: 0 },
      { path: '/3/0/13', value: 3163110733 },
      { path: '/3/0/14', value: '+01:00' },
      { path: '/3/0/15', value: 'Europe/Berlin' },
      { path: '/3/0/16', value: 'U' },
    ]);
    // wakaama-client-blockwise.jsonl frames 6-12: the same Read in four Block2 blocks, reassembled.
    assert.equal(decodeFrame('wakaama-client-blockwise.jsonl', 12).length, 17);
  });
  it('anjay-client.jsonl frames 10 and 16: object-level TLV reads (/3 and /1) unwrap object instances', () => {
    const dev = decodeFrame('anjay-client.jsonl', 10);
    assert.equal(dev[0]?.path, '/3/0/0');
    const srv = decodeFrame('anjay-client.jsonl', 16);
    assert.deepEqual(srv.find((v) => v.path === '/1/1/1'), { path: '/1/1/1', value: 60, type: 'integer' });
    assert.deepEqual(srv.find((v) => v.path === '/1/1/6'), { path: '/1/1/6', value: true, type: 'boolean' });
  });
  it('anjay-client.jsonl frames 28/70: Discover returns the link strings as sent', () => {
    const d = decodeFrame('anjay-client.jsonl', 28);
    assert.equal(d[0]?.value, '</3/0>');
    assert.ok(d.some((v) => v.value === '</3/0/7>;dim=1'));
    assert.deepEqual(decodeFrame('anjay-client.jsonl', 70), [{ path: '/3/0/9', value: '</3/0/9>;pmin=5;pmax=60', type: 'corelnk' }]);
  });
  it('anjay-client-block2-stall.jsonl frame 8: only block 0 of a 3000-byte TLV arrived; decoding it is a typed error, not a crash', () => {
    const f = readFrames('anjay-client-block2-stall.jsonl').find((x) => x.frame === 8);
    assert.ok(f);
    const tlv = codecs.get(11542);
    assert.ok(tlv);
    assert.throws(() => tlv.decode(new Uint8Array(Buffer.from(f.payloadHex, 'hex')), ctx('/33605/1/5')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
  });
});
