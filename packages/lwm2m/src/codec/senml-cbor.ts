/**
 * application/senml+cbor (112): RFC 8428 §6 CBOR representation, LwM2M Core 1.1 §7.4.5.
 * Labels: bn -2, bt -3, bv -5, n 0, v 2, vs 3, vb 4, vd 8 (byte string), t 6, and LwM2M's
 * text label "vlo" for object links.
 */
import { Lwm2mErrors } from '../node/errors';
import type { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import { type CborKey, type CborLimits, type CborValue, CborFloat, decodeCbor, encodeCbor } from './cbor';
import {
  type SenmlLimits,
  type SenmlRecord,
  checkRecordCount,
  pathsToRecords,
  recordsToPaths,
  recordsToValues,
  valuesToRecords,
} from './senml';
import { ContentFormat, type ContentCodec, type DecodeContext, type EncodeContext } from './types';

const bad = (d: string) => Lwm2mErrors.malformedPayload(`SenML CBOR: ${d}`);
const L = { bn: -2, bt: -3, bv: -5, n: 0, v: 2, vs: 3, vb: 4, vd: 8, t: 6 } as const;

function asNumber(v: CborValue, k: string, i: number): number | bigint {
  if (v instanceof CborFloat) return v.value;
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  throw bad(`record ${i}: "${k}" must be a number`);
}

export function parseSenmlCbor(payload: Uint8Array, limits: SenmlLimits & CborLimits = {}): SenmlRecord[] {
  const doc = decodeCbor(payload, limits);
  if (!Array.isArray(doc)) throw bad('top level is not an array (RFC 8428 §6)');
  checkRecordCount(doc.length, limits);
  return doc.map((m, i) => {
    if (!(m instanceof Map)) throw bad(`record ${i} is not a map`);
    const r: SenmlRecord = {};
    for (const [k, v] of m as Map<CborKey, CborValue>) {
      const text = (name: string) => {
        if (typeof v !== 'string') throw bad(`record ${i}: "${name}" must be a text string`);
        return v;
      };
      switch (k) {
        case L.bn:
          r.bn = text('bn');
          break;
        case L.n:
          r.n = text('n');
          break;
        case L.vs:
          r.vs = text('vs');
          break;
        case 'vlo':
          r.vlo = text('vlo');
          break;
        case L.bt:
          r.bt = Number(asNumber(v, 'bt', i));
          break;
        case L.t:
          r.t = Number(asNumber(v, 't', i));
          break;
        case L.bv:
          r.bv = Number(asNumber(v, 'bv', i));
          break;
        case L.v:
          r.v = asNumber(v, 'v', i);
          break;
        case L.vb:
          if (typeof v !== 'boolean') throw bad(`record ${i}: "vb" must be a boolean`);
          r.vb = v;
          break;
        case L.vd:
          if (!(v instanceof Uint8Array)) throw bad(`record ${i}: "vd" must be a byte string`);
          r.vd = v;
          break;
        default:
          // RFC 8428 §4.4: unknown labels may be ignored, except must-understand ones (text labels ending in "_").
          if (typeof k === 'string' && k.endsWith('_')) throw bad(`record ${i}: unsupported must-understand label "${k}"`);
      }
    }
    return r;
  });
}

function cborRecord(r: SenmlRecord, floatV: boolean): Map<CborKey, CborValue> {
  const m = new Map<CborKey, CborValue>();
  if (r.bn !== undefined) m.set(L.bn, r.bn);
  if (r.n !== undefined) m.set(L.n, r.n);
  if (r.t !== undefined) m.set(L.t, r.t);
  if (r.v !== undefined) m.set(L.v, floatV && typeof r.v === 'number' ? new CborFloat(r.v) : r.v);
  if (r.vs !== undefined) m.set(L.vs, r.vs);
  if (r.vb !== undefined) m.set(L.vb, r.vb);
  if (r.vd !== undefined) m.set(L.vd, typeof r.vd === 'string' ? new TextEncoder().encode(r.vd) : r.vd);
  if (r.vlo !== undefined) m.set('vlo', r.vlo);
  return m;
}

export class SenmlCborCodec implements ContentCodec {
  readonly format: number = ContentFormat.SENML_CBOR;
  readonly name = 'senml+cbor';
  constructor(private readonly limits: SenmlLimits & CborLimits = {}) {}
  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    return recordsToValues(parseSenmlCbor(payload, this.limits), ctx);
  }
  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array {
    const records = valuesToRecords(values, ctx);
    return encodeCbor(
      records.map((r, i) => {
        const v = values[i]!;
        return cborRecord(r, (v.type ?? '') === 'float' || (v.type === undefined && isFloatModel(v, ctx)));
      }),
    );
  }
  decodePaths(payload: Uint8Array): Lwm2mPath[] {
    return recordsToPaths(parseSenmlCbor(payload, this.limits));
  }
  encodePaths(paths: Lwm2mPath[]): Uint8Array {
    return encodeCbor(pathsToRecords(paths).map((r) => cborRecord(r, false)));
  }
}

function isFloatModel(v: ResourceValue, ctx: EncodeContext): boolean {
  const m = /^\/(\d+)\/\d+\/(\d+)/.exec(v.path);
  if (!m) return false;
  const oid = Number(m[1]);
  return ctx.model.getResource(oid, Number(m[2]), ctx.versions?.get(oid))?.type === 'float';
}
