import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ContentCodec, ContentFormat, type Lwm2mValue, ObjectRegistry, type ResourceValue, builtinObjects, defaultCodecs } from '../src/index';
import { allTypesObject, ctx, typedError } from './codec-helpers';

const model = new ObjectRegistry([...builtinObjects(), allTypesObject()]);
const codecs = defaultCodecs();
const strip = (vs: ResourceValue[]) =>
  vs.map((v) => (v.time === undefined ? { path: v.path, value: v.value } : { path: v.path, value: v.value, time: v.time }));

const base = (big: boolean): { path: string; value: Lwm2mValue }[] => [
  { path: '/40000/0/0', value: 'h\u00e9llo, "world" \u6c34' },
  { path: '/40000/0/1', value: big ? -9007199254740993n : -123456 },
  { path: '/40000/0/2', value: big ? 18446744073709551615n : 4000000000 },
  { path: '/40000/0/3', value: Math.PI },
  { path: '/40000/0/4', value: true },
  { path: '/40000/0/5', value: new Uint8Array([0, 1, 2, 255]) },
  { path: '/40000/0/6', value: 1700000000 },
  { path: '/40000/0/7', value: { objectId: 3, instanceId: 0 } },
  { path: '/40000/0/8', value: '</3/0>;dim=2' },
  { path: '/40000/0/9/0', value: 1 },
  { path: '/40000/0/9/5', value: -2 },
  { path: '/40000/0/10/0', value: 'a' },
  { path: '/40000/0/10/1', value: 'b' },
];

const INSTANCE_FORMATS: [number, boolean][] = [
  [ContentFormat.TLV, true],
  [ContentFormat.OLD_TLV, true],
  [ContentFormat.SENML_CBOR, true],
  [ContentFormat.LWM2M_CBOR, true],
  [ContentFormat.SENML_JSON, true],
  [ContentFormat.LWM2M_JSON, true],
  [ContentFormat.OLD_JSON, true],
  [ContentFormat.SENML_JSON, false],
];

describe('codec round trips (encode -> decode == input)', () => {
  for (const [format, big] of INSTANCE_FORMATS) {
    it(`format ${format}: an object instance with one resource of every type`, () => {
      const c = codecs.get(format);
      assert.ok(c);
      const values = base(big);
      const decoded = c.decode(c.encode(values, ctx('/40000/0', model)), ctx('/40000/0', model));
      assert.deepEqual(strip(decoded), values);
      assert.deepEqual(
        decoded.map((v) => v.type),
        ['string', 'integer', 'unsignedInteger', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'corelnk', 'integer', 'integer', 'string', 'string'],
      );
    });
    it(`format ${format}: object level with two instances, and a single resource`, () => {
      const c = codecs.get(format);
      assert.ok(c);
      const two = [
        { path: '/40000/0/1', value: 1 },
        { path: '/40000/0/9/0', value: 7 },
        { path: '/40000/1/0', value: 'x' },
        { path: '/40000/1/3', value: 1 },
      ];
      assert.deepEqual(strip(c.decode(c.encode(two, ctx('/40000', model)), ctx('/40000', model))), two);
      const one = [{ path: '/40000/0/3', value: -0.5 }];
      assert.deepEqual(strip(c.decode(c.encode(one, ctx('/40000/0/3', model)), ctx('/40000/0/3', model))), one);
    });
  }
  for (const format of [ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR, ContentFormat.LWM2M_CBOR]) {
    it(`format ${format}: root-level composite values from several objects${format === ContentFormat.LWM2M_CBOR ? '' : ' with timestamps'}`, () => {
      const c = codecs.get(format);
      assert.ok(c);
      const t = format === ContentFormat.LWM2M_CBOR ? {} : { time: 1700000000.25 };
      const values = [
        { path: '/3/0/0', value: 'anjay', ...t },
        { path: '/3303/0/5700', value: 21.5, ...t },
        { path: '/40000/3/4', value: false, ...t },
      ];
      assert.deepEqual(strip(c.decode(c.encode(values, ctx('/', model)), ctx('/', model))), values);
    });
  }
  it('single-value formats: text/plain and CBOR carry every type, opaque carries opaque', () => {
    const text = codecs.get(ContentFormat.TEXT);
    const cbor = codecs.get(ContentFormat.CBOR);
    const opaque = codecs.get(ContentFormat.OPAQUE);
    assert.ok(text && cbor && opaque);
    const singles: ResourceValue[] = [...base(true), { path: '/40000/0/3', value: 1 }, { path: '/40000/0/3', value: Number.POSITIVE_INFINITY }];
    const singleCodecs: ContentCodec[] = [text, cbor];
    for (const v of singles) {
      for (const c of singleCodecs) {
        const got: ResourceValue[] = c.decode(c.encode([v], ctx(v.path, model)), ctx(v.path, model));
        assert.deepEqual(strip(got), [v], `${c.name} ${v.path}`);
      }
    }
    const bytes = { path: '/40000/0/5', value: new Uint8Array(300).fill(7) };
    assert.deepEqual(strip(opaque.decode(opaque.encode([bytes], ctx(bytes.path, model)), ctx(bytes.path, model))), [bytes]);
    assert.throws(() => opaque.encode([{ path: '/40000/0/0', value: 'x' }], ctx('/40000/0/0', model)), typedError(['M2M_LWM2M_NOT_ACCEPTABLE']));
    assert.throws(() => opaque.decode(new Uint8Array([1]), ctx('/3/0/0', model)), typedError(['M2M_LWM2M_TYPE_MISMATCH']));
  });
  it('link-format: Discover links survive a round trip, commas inside quotes included', () => {
    const link = codecs.get(ContentFormat.LINK);
    assert.ok(link);
    const values = [
      { path: '/3/0', value: '</3/0>' },
      { path: '/3/0/7', value: '</3/0/7>;dim=2' },
      { path: '/', value: '</>;rt="oma.lwm2m,x";ct=110' },
    ];
    assert.deepEqual(strip(link.decode(link.encode(values, ctx('/3/0', model)), ctx('/3/0', model))), values);
  });
  it('encoding a value of the wrong type for the model is a typed error in every format', () => {
    for (const format of codecs.formats()) {
      if (format === ContentFormat.OPAQUE || format === ContentFormat.LINK) continue;
      const c = codecs.get(format);
      assert.ok(c);
      assert.throws(() => c.encode([{ path: '/3/0/9', value: 'abc' }], ctx('/3/0/9', model)), typedError(['M2M_LWM2M_TYPE_MISMATCH']), c.name);
      assert.throws(() => c.encode([{ path: '/40000/0/2', value: -1 }], ctx('/40000/0/2', model)), typedError(['M2M_LWM2M_TYPE_MISMATCH']), c.name);
    }
  });
  it('values of unknown objects keep the type their format gives them', () => {
    const c = codecs.get(ContentFormat.SENML_CBOR);
    assert.ok(c);
    const values = [
      { path: '/33605/1/0', value: 5 },
      { path: '/33605/1/1', value: 'x' },
      { path: '/33605/1/2', value: new Uint8Array([1]) },
    ];
    const got = c.decode(c.encode(values, ctx('/33605/1', model)), ctx('/33605/1', model));
    assert.deepEqual(strip(got), values);
    assert.deepEqual(got.map((v) => v.type), [undefined, undefined, undefined]);
  });
});
