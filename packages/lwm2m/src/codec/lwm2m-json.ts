/**
 * application/vnd.oma.lwm2m+json (11543, legacy 1543): the LwM2M 1.0 JSON format
 * (LwM2M 1.0 Core §6.4.4): `{"bn":"/3/0/","bt":..,"e":[{"n":"0","sv":".."},{"n":"6/0","v":1},
 * {"n":"x","bv":true},{"n":"y","ov":"3:0"}]}`. Names resolve like SenML (bn + n; without a
 * `bn` the names are relative to the request path). Opaque travels as base64 in `sv`.
 */
import { Lwm2mErrors } from '../node/errors';
import { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import { type SenmlLimits, type SenmlRecord, checkRecordCount, recordsToValues } from './senml';
import { parseJson } from './senml-json';
import { ContentFormat, type ContentCodec, type DecodeContext, type EncodeContext } from './types';
import { checkValue, encodeType } from './typing';

const bad = (d: string) => Lwm2mErrors.malformedPayload(`LwM2M JSON: ${d}`);

export class Lwm2mJsonCodec implements ContentCodec {
  readonly name = 'lwm2m+json';
  constructor(
    readonly format: number = ContentFormat.LWM2M_JSON,
    private readonly limits: SenmlLimits = {},
  ) {}

  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    const doc = parseJson(payload, 'LwM2M JSON');
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('top level is not an object');
    const o = doc as Record<string, unknown>;
    if (o.bn !== undefined && typeof o.bn !== 'string') throw bad('"bn" must be a string');
    if (o.bt !== undefined && typeof o.bt !== 'number' && typeof o.bt !== 'bigint') throw bad('"bt" must be a number');
    if (!Array.isArray(o.e)) throw bad('"e" must be an array');
    checkRecordCount(o.e.length, this.limits);
    const base = (o.bn as string | undefined) ?? (ctx.path.level === 'root' ? '/' : `${ctx.path}/`);
    const records = o.e.map((raw, i): SenmlRecord => {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`entry ${i} is not an object`);
      const e = raw as Record<string, unknown>;
      const r: SenmlRecord = {};
      if (i === 0) {
        r.bn = base;
        if (o.bt !== undefined) r.bt = Number(o.bt);
      }
      const field = (k: string, t: string) => {
        const v = e[k];
        if (v !== undefined && typeof v !== t && !(t === 'number' && typeof v === 'bigint')) {
          throw bad(`entry ${i}: "${k}" must be a ${t}`);
        }
        return v;
      };
      const n = field('n', 'string') as string | undefined;
      if (n !== undefined) r.n = n;
      const t = field('t', 'number') as number | bigint | undefined;
      if (t !== undefined) r.t = Number(t);
      const v = field('v', 'number') as number | bigint | undefined;
      if (v !== undefined) r.v = v;
      const sv = field('sv', 'string') as string | undefined;
      if (sv !== undefined) r.vs = sv;
      const bv = field('bv', 'boolean') as boolean | undefined;
      if (bv !== undefined) r.vb = bv;
      const ov = field('ov', 'string') as string | undefined;
      if (ov !== undefined) r.vlo = ov;
      return r;
    });
    return recordsToValues(records, ctx, true);
  }

  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array {
    const base = ctx.path.level === 'root' ? '/' : `${ctx.path}/`;
    const entries = values.map((v) => {
      const p = Lwm2mPath.parse(v.path);
      if (!p.startsWith(ctx.path)) throw Lwm2mErrors.notAcceptable(`LwM2M JSON: value ${v.path} is not under ${ctx.path}`);
      const type = encodeType(v, p, ctx);
      const c = checkValue(v.value, type, v.path);
      const parts: string[] = [];
      const rel = `${v.path}/`.slice(base.length).replace(/\/$/, '');
      if (rel !== '') parts.push(`"n":${JSON.stringify(rel)}`);
      switch (type) {
        case 'string':
        case 'corelnk':
          parts.push(`"sv":${JSON.stringify(c)}`);
          break;
        case 'opaque':
          parts.push(`"sv":${JSON.stringify(Buffer.from(c as Uint8Array).toString('base64'))}`);
          break;
        case 'boolean':
          parts.push(`"bv":${c}`);
          break;
        case 'objlnk': {
          const l = c as { objectId: number; instanceId: number };
          parts.push(`"ov":"${l.objectId}:${l.instanceId}"`);
          break;
        }
        default:
          if (typeof c === 'number' && !Number.isFinite(c)) throw Lwm2mErrors.notAcceptable(`LwM2M JSON cannot carry ${c}`);
          parts.push(`"v":${String(c)}`);
      }
      if (v.time !== undefined) parts.push(`"t":${v.time}`);
      return `{${parts.join(',')}}`;
    });
    // A single resource: bn is the resource path and the entry has no name.
    return new TextEncoder().encode(`{"bn":${JSON.stringify(base)},"e":[${entries.join(',')}]}`);
  }
}
