import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ContentFormat,
  Lwm2mPath,
  ObjectRegistry,
  type ResourceValue,
  defaultCodecs,
  parseSenmlJson,
} from '../src/index';
import { ctx, hex, toHexStr, typedError } from './codec-helpers';

const codecs = defaultCodecs();
const codec = (f: number) => {
  const c = codecs.get(f);
  assert.ok(c, `codec ${f}`);
  return c;
};
const strip = (vs: ResourceValue[]) => vs.map((v) => ({ path: v.path, value: v.value }));

// The Device object instance of the LwM2M 1.0 Core §6.4.3.1 / 1.1 §7.4.3 examples.
const DEVICE: { path: string; value: unknown }[] = [
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
  { path: '/3/0/13', value: 1367491215 },
  { path: '/3/0/14', value: '+02:00' },
  { path: '/3/0/16', value: 'U' },
];

const DEVICE_TLV = `
c8 00 14 4f 70 65 6e 20 4d 6f 62 69 6c 65 20 41 6c 6c 69 61 6e 63 65
c8 01 16 4c 69 67 68 74 77 65 69 67 68 74 20 4d 32 4d 20 43 6c 69 65 6e 74
c8 02 09 33 34 35 30 30 30 31 32 33
c3 03 31 2e 30
86 06 41 00 01 41 01 05
88 07 08 42 00 0e d8 42 01 13 88
87 08 41 00 7d 42 01 03 84
c1 09 64
c1 0a 0f
83 0b 41 00 00
c4 0d 51 82 42 8f
c6 0e 2b 30 32 3a 30 30
c1 10 55`;

const DEVICE_SENML = JSON.stringify([
  { bn: '/3/0/', n: '0', vs: 'Open Mobile Alliance' },
  { n: '1', vs: 'Lightweight M2M Client' },
  { n: '2', vs: '345000123' },
  { n: '3', vs: '1.0' },
  { n: '6/0', v: 1 },
  { n: '6/1', v: 5 },
  { n: '7/0', v: 3800 },
  { n: '7/1', v: 5000 },
  { n: '8/0', v: 125 },
  { n: '8/1', v: 900 },
  { n: '9', v: 100 },
  { n: '10', v: 15 },
  { n: '11/0', v: 0 },
  { n: '13', v: 1367491215 },
  { n: '14', vs: '+02:00' },
  { n: '16', vs: 'U' },
]);

const DEVICE_LWM2M_JSON = JSON.stringify({
  bn: '/3/0/',
  e: [
    { n: '0', sv: 'Open Mobile Alliance' },
    { n: '1', sv: 'Lightweight M2M Client' },
    { n: '2', sv: '345000123' },
    { n: '3', sv: '1.0' },
    { n: '6/0', v: 1 },
    { n: '6/1', v: 5 },
    { n: '7/0', v: 3800 },
    { n: '7/1', v: 5000 },
    { n: '8/0', v: 125 },
    { n: '8/1', v: 900 },
    { n: '9', v: 100 },
    { n: '10', v: 15 },
    { n: '11/0', v: 0 },
    { n: '13', v: 1367491215 },
    { n: '14', sv: '+02:00' },
    { n: '16', sv: 'U' },
  ],
});

describe('codec examples from the specifications', () => {
  it('LwM2M 1.0 Core §6.4.3.1: TLV Read of the Device object instance decodes and re-encodes byte for byte', () => {
    const tlv = codec(ContentFormat.TLV);
    const values = tlv.decode(hex(DEVICE_TLV), ctx('/3/0'));
    assert.deepEqual(strip(values), DEVICE);
    assert.equal(values.find((v) => v.path === '/3/0/13')?.type, 'time');
    assert.equal(toHexStr(tlv.encode(values, ctx('/3/0'))), toHexStr(hex(DEVICE_TLV)));
    // legacy number 1542 is the same codec
    assert.deepEqual(strip(codec(ContentFormat.OLD_TLV).decode(hex(DEVICE_TLV), ctx('/3/0'))), DEVICE);
  });
  it('LwM2M 1.0 Core §6.4.3.1: TLV single resource and multiple-instance resource reads', () => {
    const tlv = codec(ContentFormat.TLV);
    assert.deepEqual(strip(tlv.decode(hex('c8 00 14 4f70656e204d6f62696c6520416c6c69616e6365'), ctx('/3/0/0'))), [
      { path: '/3/0/0', value: 'Open Mobile Alliance' },
    ]);
    assert.deepEqual(strip(tlv.decode(hex('86 06 41 00 01 41 01 05'), ctx('/3/0/6'))), [
      { path: '/3/0/6/0', value: 1 },
      { path: '/3/0/6/1', value: 5 },
    ]);
    assert.equal(toHexStr(tlv.encode([{ path: '/3/0/6/0', value: 1 }, { path: '/3/0/6/1', value: 5 }], ctx('/3/0/6'))), '8606410001410105');
  });
  it('LwM2M 1.0 Core §6.4.3.2: TLV object-level read of Access Control instances (16-bit resource instance id)', () => {
    const payload = hex('08 00 0e c1 00 01 c1 01 00 83 02 41 7f 07 c1 03 7f 08 02 12 c1 00 03 c1 01 00 87 02 41 7f 07 61 01 36 01 c1 03 7f');
    const values = codec(ContentFormat.TLV).decode(payload, ctx('/2'));
    assert.deepEqual(strip(values), [
      { path: '/2/0/0', value: 1 },
      { path: '/2/0/1', value: 0 },
      { path: '/2/0/2/127', value: 7 },
      { path: '/2/0/3', value: 127 },
      { path: '/2/2/0', value: 3 },
      { path: '/2/2/1', value: 0 },
      { path: '/2/2/2/127', value: 7 },
      { path: '/2/2/2/310', value: 1 },
      { path: '/2/2/3', value: 127 },
    ]);
    assert.equal(toHexStr(codec(ContentFormat.TLV).encode(values, ctx('/2'))), toHexStr(payload));
  });
  it('LwM2M 1.1 Core §7.4.4: SenML JSON Read of the Device object (Wakaama-style base name)', () => {
    const values = codec(ContentFormat.SENML_JSON).decode(new TextEncoder().encode(DEVICE_SENML), ctx('/3/0'));
    assert.deepEqual(strip(values), DEVICE);
  });
  it('LwM2M 1.0 Core §6.4.4: LwM2M JSON Read of the Device object (also as legacy 1543)', () => {
    for (const f of [ContentFormat.LWM2M_JSON, ContentFormat.OLD_JSON]) {
      const values = codec(f).decode(new TextEncoder().encode(DEVICE_LWM2M_JSON), ctx('/3/0'));
      assert.deepEqual(strip(values), DEVICE);
      assert.deepEqual(strip(codec(f).decode(codec(f).encode(values, ctx('/3/0')), ctx('/3/0'))), DEVICE);
    }
  });
  it('RFC 8428 §5.1.2: records with base name, base time and relative times parse; unknown fields are ignored', () => {
    const rfc = `[{"bn":"urn:dev:ow:10e2073a01080063:","bt":1.320067464e+09,"bu":"A","bver":5,"n":"voltage","u":"V","v":120.1},
      {"n":"current","t":-5,"v":1.2},{"n":"current","t":-4,"v":1.3},{"n":"current","t":-3,"v":1.4}]`;
    const records = parseSenmlJson(new TextEncoder().encode(rfc));
    assert.equal(records.length, 4);
    assert.deepEqual(records[0], { bn: 'urn:dev:ow:10e2073a01080063:', bt: 1.320067464e9, n: 'voltage', v: 120.1 });
    assert.deepEqual(records[1], { n: 'current', t: -5, v: 1.2 });
    // The same shape with LwM2M names: t = bt + t (RFC 8428 §4.5.3)
    const lw = '[{"bn":"/3303/0/","bt":1.320067464e+09,"n":"5700","v":20.5},{"n":"5700","t":-5,"v":20.1}]';
    const values = codec(ContentFormat.SENML_JSON).decode(new TextEncoder().encode(lw), ctx('/3303/0/5700'));
    assert.deepEqual(values, [
      { path: '/3303/0/5700', value: 20.5, type: 'float', time: 1320067464 },
      { path: '/3303/0/5700', value: 20.1, type: 'float', time: 1320067459 },
    ]);
  });
  it('LwM2M 1.1 Core §7.4.4: both base-name styles resolve to the same paths (Wakaama "/3/0/"+"0", Anjay "/3/0"+"/0")', () => {
    const w = '[{"bn":"/3/0/","n":"0","vs":"x"},{"n":"7/1","v":5}]';
    const a = '[{"bn":"/3/0","n":"/0","vs":"x"},{"n":"/7/1","v":5}]';
    const n = '[{"n":"/3/0/0","vs":"x"},{"n":"/3/0/7/1","v":5}]';
    const expect = [
      { path: '/3/0/0', value: 'x' },
      { path: '/3/0/7/1', value: 5 },
    ];
    for (const s of [w, a, n]) {
      assert.deepEqual(strip(codec(ContentFormat.SENML_JSON).decode(new TextEncoder().encode(s), ctx('/3/0'))), expect, s);
    }
  });
  it('LwM2M 1.1 Core §7.4.4: SenML with no name, or a name that is no path, is a typed error', () => {
    for (const s of ['[{"v":1}]', '[{"bn":"","vs":"x"}]', '[{"n":"/3/0/x","v":1}]', '[{"bn":"urn:dev:1","v":1}]']) {
      assert.throws(
        () => codec(ContentFormat.SENML_JSON).decode(new TextEncoder().encode(s), ctx('/')),
        typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']),
        s,
      );
    }
    assert.throws(() => codec(ContentFormat.SENML_CBOR).decode(hex('81a10201'), ctx('/')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
  });
  it('LwM2M 1.1 Core §7.4.4: composite requests carry names only (Read-Composite paths)', () => {
    const json = codec(ContentFormat.SENML_JSON);
    const cbor = codec(ContentFormat.SENML_CBOR);
    const lcbor = codec(ContentFormat.LWM2M_CBOR);
    const paths = ['/3/0/0', '/3303/0/5700', '/1'].map((p) => Lwm2mPath.parse(p));
    for (const c of [json, cbor, lcbor]) {
      assert.ok(c.encodePaths && c.decodePaths);
      assert.deepEqual(
        c.decodePaths(c.encodePaths(paths)).map(String).sort(),
        paths.map(String).sort(),
        c.name,
      );
    }
    assert.equal(new TextDecoder().decode(json.encodePaths?.(paths.slice(0, 2))), '[{"n":"/3/0/0"},{"n":"/3303/0/5700"}]');
  });
  it('text/plain (LwM2M Core §7.3.1): the model decides the type; a wrong value is a typed error', () => {
    const text = codec(ContentFormat.TEXT);
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.deepEqual(text.decode(enc('100'), ctx('/3/0/9')), [{ path: '/3/0/9', value: 100, type: 'integer' }]);
    assert.deepEqual(text.decode(enc('1367491215'), ctx('/3/0/13')), [{ path: '/3/0/13', value: 1367491215, type: 'time' }]);
    assert.deepEqual(text.decode(enc('23.5'), ctx('/3303/0/5700')), [{ path: '/3303/0/5700', value: 23.5, type: 'float' }]);
    assert.deepEqual(text.decode(enc('1'), ctx('/1/0/6')), [{ path: '/1/0/6', value: true, type: 'boolean' }]);
    assert.deepEqual(text.decode(enc('9223372036854775807'), ctx('/3/0/9')), [
      { path: '/3/0/9', value: 9223372036854775807n, type: 'integer' },
    ]);
    for (const [s, p] of [
      ['abc', '/3/0/9'],
      ['1.5', '/3/0/9'],
      ['9223372036854775808', '/3/0/9'],
      ['2', '/1/0/6'],
      ['x', '/3303/0/5700'],
    ] as const) {
      assert.throws(() => text.decode(enc(s), ctx(p)), typedError(['M2M_LWM2M_TYPE_MISMATCH']), `${s} for ${p}`);
    }
    assert.throws(() => text.decode(enc('1'), ctx('/3/0')), typedError(['M2M_LWM2M_NOT_ACCEPTABLE']));
    assert.throws(() => text.decode(new Uint8Array([0xff]), ctx('/3/0/0')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
  });
  it('TLV: a value that does not fit its type is a typed error (boolean 2, 3-byte integer, 2-byte float)', () => {
    const tlv = codec(ContentFormat.TLV);
    assert.throws(() => tlv.decode(hex('c10602'), ctx('/1/0')), typedError(['M2M_LWM2M_TYPE_MISMATCH']));
    assert.throws(() => tlv.decode(hex('c309010203'), ctx('/3/0')), typedError(['M2M_LWM2M_TYPE_MISMATCH']));
    assert.throws(() => tlv.decode(hex('e216444000'), ctx('/3303/0')), typedError(['M2M_LWM2M_TYPE_MISMATCH']));
    assert.throws(() => tlv.encode([{ path: '/3/0/9', value: 'abc' }], ctx('/3/0/9')), typedError(['M2M_LWM2M_TYPE_MISMATCH']));
    assert.throws(() => tlv.encode([{ path: '/1/0/6', value: 300 }], ctx('/1/0/6')), typedError(['M2M_LWM2M_TYPE_MISMATCH']));
  });
  it('TLV: truncated input and lengths beyond the buffer are typed errors', () => {
    const tlv = codec(ContentFormat.TLV);
    const full = hex(DEVICE_TLV);
    for (let n = 1; n < full.length; n++) {
      const cut = full.subarray(0, n);
      try {
        tlv.decode(cut, ctx('/3/0'));
      } catch (e) {
        typedError()(e);
      }
    }
    assert.throws(() => tlv.decode(hex('c8'), ctx('/3/0')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
    assert.throws(() => tlv.decode(hex('c8 00 14 4f70'), ctx('/3/0')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
    assert.throws(() => tlv.decode(hex('d8 00 ff ff ff 00'), ctx('/3/0')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
    assert.throws(() => tlv.decode(hex('08 00 02 c1 00 01'), ctx('/3')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
  });
  it('RFC 8428 §4.4: a must-understand label (ending in "_") is rejected, other unknown labels are ignored', () => {
    const json = codec(ContentFormat.SENML_JSON);
    const enc = (x: string) => new TextEncoder().encode(x);
    assert.deepEqual(strip(json.decode(enc('[{"n":"/3/0/9","v":5,"foo":1}]'), ctx('/'))), [{ path: '/3/0/9', value: 5 }]);
    assert.throws(() => json.decode(enc('[{"n":"/3/0/9","v":5,"foo_":1}]'), ctx('/')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
    // [{0: "/3/0/9", 2: 5, "x_": 1}]
    assert.throws(() => codec(ContentFormat.SENML_CBOR).decode(hex('81a300662f332f302f3902056278 5f01'), ctx('/')), typedError(['M2M_LWM2M_MALFORMED_PAYLOAD']));
  });
  it('CodecRegistry.require: an unknown Content-Format is M2M_LWM2M_UNSUPPORTED_FORMAT (CoAP 4.15)', () => {
    assert.equal(codecs.require(ContentFormat.TLV).format, 11542);
    assert.throws(() => codecs.require(9999), (e: unknown) => typedError(['M2M_LWM2M_UNSUPPORTED_FORMAT'])(e) && (e as { wire: { coap?: string } }).wire.coap === '4.15');
    assert.deepEqual(codecs.formats(), [0, 40, 42, 60, 110, 112, 1542, 1543, 11542, 11543, 11544]);
  });
  it('LwM2M Core §7.2.2: the object version a client registered (ver=) selects the model that types its values', () => {
    const v10 = { id: 40002, name: 'V', version: '1.0', multiple: false, mandatory: false, resources: new Map([[0, { id: 0, name: 'r', operations: 'R' as const, multiple: false, mandatory: false, type: 'integer' as const }]]) };
    const v11 = { ...v10, version: '1.1', resources: new Map([[0, { id: 0, name: 'r', operations: 'R' as const, multiple: false, mandatory: false, type: 'string' as const }]]) };
    const model = new ObjectRegistry([v10, v11]);
    const text = codec(ContentFormat.TEXT);
    const payload = new TextEncoder().encode('12');
    assert.deepEqual(text.decode(payload, ctx('/40002/0/0', model)), [{ path: '/40002/0/0', value: '12', type: 'string' }]);
    assert.deepEqual(text.decode(payload, ctx('/40002/0/0', model, new Map([[40002, '1.0']]))), [{ path: '/40002/0/0', value: 12, type: 'integer' }]);
  });
});
