import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isM2MError } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import { ContentFormat, type DecodeContext, Lwm2mPath, ObjectRegistry, type ResourceValue, builtinObjects, decodeCbor, defaultCodecs } from '../src/index';
import { allTypesObject, payloadsOf } from './codec-helpers';

const ITERATIONS = 120_000;
const model = new ObjectRegistry([...builtinObjects(), allTypesObject()]);
const codecs = defaultCodecs();
const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x1b, 0x3b, 0x5b, 0x7b, 0x9b, 0xbb, 0x9f, 0xbf, 0xf9, 0xfb, 0xd8, 0x38, 0xc8, 0x22, 0x5b, 0x7d, 0x2f];

function seeds(): { format: number; path: string; payload: Uint8Array }[] {
  const out: { format: number; path: string; payload: Uint8Array }[] = [];
  for (const f of ['anjay-client-accept.jsonl', 'anjay-client.jsonl', 'wakaama-client.jsonl', 'wakaama-client-accept.jsonl']) {
    for (const p of payloadsOf(f)) if (codecs.get(p.format) && p.payload.length <= 600) out.push(p);
  }
  const values: ResourceValue[] = [
    { path: '/40000/0/0', value: 'x' },
    { path: '/40000/0/1', value: -9007199254740993n },
    { path: '/40000/0/3', value: 1.5 },
    { path: '/40000/0/4', value: true },
    { path: '/40000/0/5', value: new Uint8Array([1, 2]) },
    { path: '/40000/0/7', value: { objectId: 1, instanceId: 2 } },
    { path: '/40000/0/9/3', value: 7 },
  ];
  const ctx: DecodeContext = { path: Lwm2mPath.parse('/40000/0'), model };
  for (const f of [ContentFormat.TLV, ContentFormat.SENML_CBOR, ContentFormat.LWM2M_CBOR, ContentFormat.LWM2M_JSON]) {
    out.push({ format: f, path: '/40000/0', payload: codecs.get(f)?.encode(values, ctx) as Uint8Array });
  }
  return out;
}

function mutate(r: SeededRandom, input: Uint8Array): Uint8Array {
  let b: number[] = [...input];
  const ops = 1 + r.int(4);
  for (let k = 0; k < ops; k++) {
    const at = b.length === 0 ? 0 : r.int(b.length);
    switch (r.int(7)) {
      case 0:
        if (b.length) b[at] = (b[at] as number) ^ (1 << r.int(8));
        break;
      case 1:
        if (b.length) b[at] = INTERESTING[r.int(INTERESTING.length)] as number;
        break;
      case 2:
        b.splice(at, 1 + r.int(8));
        break;
      case 3:
        b.splice(at, 0, ...r.bytes(1 + r.int(8)));
        break;
      case 4:
        b = b.slice(0, at);
        break;
      case 5: {
        const len = 1 + r.int(16);
        b.splice(at, 0, ...b.slice(at, at + len));
        break;
      }
      default:
        if (b.length) b[at] = r.int(256);
    }
  }
  return new Uint8Array(b);
}

function weight(v: ResourceValue): number {
  const x = v.value;
  if (typeof x === 'string') return x.length;
  if (x instanceof Uint8Array) return x.length;
  return 1;
}

describe('codec fuzzing', () => {
  it(`${ITERATIONS} mutated payloads across all codecs: only typed errors, output bounded by the input`, () => {
    const r = new SeededRandom(0x5eed);
    const pool = seeds();
    const formats = codecs.formats();
    const rssBefore = process.memoryUsage().rss;
    const counts = { ok: 0, typed: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const s = pool[r.int(pool.length)];
      assert.ok(s);
      const payload = mutate(r, s.payload);
      // Mostly the seed's own codec, sometimes another one on the same bytes.
      const format = r.int(4) === 0 ? (formats[r.int(formats.length)] as number) : s.format;
      const codec = codecs.get(format);
      assert.ok(codec);
      const ctx: DecodeContext = { path: Lwm2mPath.parse(s.path), model };
      try {
        const values = codec.decode(payload, ctx);
        counts.ok++;
        assert.ok(values.length <= payload.length + 1, `format ${format}: ${values.length} values from ${payload.length} bytes`);
        let w = 0;
        for (const v of values) w += weight(v);
        assert.ok(w <= payload.length * 2 + 16, `format ${format}: output weight ${w} from ${payload.length} bytes`);
        if (codec.decodePaths) codec.decodePaths(payload);
        // Whatever decodes must also re-encode, or fail with a typed error.
        codec.encode(values, ctx);
      } catch (e) {
        if (!isM2MError(e)) {
          throw new Error(`format ${format} threw a non-typed error on ${Buffer.from(payload).toString('hex')}: ${String(e)}`, { cause: e });
        }
        counts.typed++;
      }
    }
    assert.ok(counts.ok > 1000, `some mutants decode (${counts.ok})`);
    assert.ok(counts.typed > 1000, `some mutants are rejected (${counts.typed})`);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 256 * 1024 * 1024, `rss grew ${grown} bytes`);
  });
  it('random bytes into the CBOR decoder: only typed errors', () => {
    const r = new SeededRandom(7);
    for (let i = 0; i < 20_000; i++) {
      const b = r.bytes(1 + r.int(24));
      try {
        decodeCbor(b);
      } catch (e) {
        if (!isM2MError(e)) throw new Error(`CBOR threw ${String(e)} on ${Buffer.from(b).toString('hex')}`);
      }
    }
  });
});
