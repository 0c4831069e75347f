/** application/senml+json (110): RFC 8428 §5 JSON representation, LwM2M Core 1.1 §7.4.4. */
import { Lwm2mErrors } from '../node/errors';
import type { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import {
  type SenmlLimits,
  type SenmlRecord,
  checkRecordCount,
  pathsToRecords,
  recordsToPaths,
  recordsToValues,
  valuesToRecords,
} from './senml';
import { parseJsonExact } from './json';
import { decodeUtf8 } from './text';
import { ContentFormat, type ContentCodec, type DecodeContext, type EncodeContext } from './types';
import { base64UrlEncode } from './typing';

const bad = (d: string) => Lwm2mErrors.malformedPayload(`SenML JSON: ${d}`);

/** Parses JSON with integers beyond 2^53-1 kept exact as bigint (see json.ts). */
export function parseJson(payload: Uint8Array, what: string): unknown {
  return parseJsonExact(decodeUtf8(payload, what), what);
}

function str(r: Record<string, unknown>, k: string, i: number): string | undefined {
  const v = r[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`record ${i}: "${k}" must be a string`);
  return v;
}
function num(r: Record<string, unknown>, k: string, i: number): number | undefined {
  const v = r[k];
  if (v === undefined) return undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw bad(`record ${i}: "${k}" must be a number`);
  return v;
}
function bignum(r: Record<string, unknown>, k: string, i: number): number | bigint | undefined {
  const v = r[k];
  return typeof v === 'bigint' ? v : num(r, k, i);
}

export function parseSenmlJson(payload: Uint8Array, limits: SenmlLimits = {}): SenmlRecord[] {
  const doc = parseJson(payload, 'SenML JSON');
  if (!Array.isArray(doc)) throw bad('top level is not an array (RFC 8428 §5)');
  checkRecordCount(doc.length, limits);
  return doc.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`record ${i} is not an object`);
    const o = raw as Record<string, unknown>;
    // RFC 8428 §4.4: a label ending in "_" must be understood; we understand none of them.
    for (const k of Object.keys(o)) if (k.endsWith('_')) throw bad(`record ${i}: unsupported must-understand label "${k}"`);
    const r: SenmlRecord = {};
    const set = <K extends keyof SenmlRecord>(k: K, v: SenmlRecord[K] | undefined) => {
      if (v !== undefined) r[k] = v;
    };
    set('bn', str(o, 'bn', i));
    set('bt', num(o, 'bt', i));
    set('bv', num(o, 'bv', i));
    set('n', str(o, 'n', i));
    set('t', num(o, 't', i));
    set('v', bignum(o, 'v', i));
    set('vs', str(o, 'vs', i));
    set('vd', str(o, 'vd', i));
    set('vlo', str(o, 'vlo', i));
    if (o.vb !== undefined) {
      if (typeof o.vb !== 'boolean') throw bad(`record ${i}: "vb" must be a boolean`);
      r.vb = o.vb;
    }
    return r;
  });
}

function jsonRecord(r: SenmlRecord): string {
  const parts: string[] = [];
  if (r.bn !== undefined) parts.push(`"bn":${JSON.stringify(r.bn)}`);
  if (r.n !== undefined) parts.push(`"n":${JSON.stringify(r.n)}`);
  if (r.t !== undefined) parts.push(`"t":${JSON.stringify(r.t)}`);
  if (r.v !== undefined) {
    // JSON has no NaN/Infinity (RFC 8259 §6): refuse rather than emit null.
    if (typeof r.v === 'number' && !Number.isFinite(r.v)) throw Lwm2mErrors.notAcceptable(`SenML JSON cannot carry ${r.v}`);
    parts.push(`"v":${String(r.v)}`);
  }
  if (r.vs !== undefined) parts.push(`"vs":${JSON.stringify(r.vs)}`);
  if (r.vb !== undefined) parts.push(`"vb":${r.vb}`);
  if (r.vd !== undefined) parts.push(`"vd":${JSON.stringify(typeof r.vd === 'string' ? r.vd : base64UrlEncode(r.vd))}`);
  if (r.vlo !== undefined) parts.push(`"vlo":${JSON.stringify(r.vlo)}`);
  return `{${parts.join(',')}}`;
}

export class SenmlJsonCodec implements ContentCodec {
  readonly format: number = ContentFormat.SENML_JSON;
  readonly name = 'senml+json';
  constructor(private readonly limits: SenmlLimits = {}) {}
  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    return recordsToValues(parseSenmlJson(payload, this.limits), ctx);
  }
  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array {
    return new TextEncoder().encode(`[${valuesToRecords(values, ctx).map(jsonRecord).join(',')}]`);
  }
  decodePaths(payload: Uint8Array): Lwm2mPath[] {
    return recordsToPaths(parseSenmlJson(payload, this.limits));
  }
  encodePaths(paths: Lwm2mPath[]): Uint8Array {
    return new TextEncoder().encode(`[${pathsToRecords(paths).map(jsonRecord).join(',')}]`);
  }
}
