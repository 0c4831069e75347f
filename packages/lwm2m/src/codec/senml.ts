/**
 * SenML records as LwM2M uses them (RFC 8428 §4; LwM2M Core 1.1 §7.4.4 / §7.4.5), shared by
 * the JSON (110) and CBOR (112) representations.
 *
 * Name resolution (RFC 8428 §4.5.1): name = last base name + name. Both client styles work:
 * Wakaama `"bn":"/3/0/","n":"0"` and Anjay `"bn":"/3/0","n":"/0"`. Time: t = last bt + t.
 * Base value `bv` is added to `v`. Values: `v` number, `vs` string, `vb` boolean, `vd` data,
 * `vlo` LwM2M object link "O:I". The record's field must match the model's type.
 */
import { Lwm2mErrors } from '../node/errors';
import { Lwm2mPath } from '../node/path';
import type { Lwm2mValue, ResourceValue, ResourceType } from '../node/value';
import type { DecodeContext, EncodeContext } from './types';
import { base64Decode, checkValue, encodeType, parseObjlnk, resourceType } from './typing';

/** One record, as parsed from either representation. `vd` is bytes (CBOR) or base64url text (JSON). */
export interface SenmlRecord {
  bn?: string;
  bt?: number;
  bv?: number;
  n?: string;
  t?: number;
  v?: number | bigint;
  vs?: string;
  vb?: boolean;
  vd?: Uint8Array | string;
  vlo?: string;
}

export interface SenmlLimits {
  /** Most records in one payload (default 65,536). */
  maxRecords?: number;
}

const bad = (d: string) => Lwm2mErrors.malformedPayload(`SenML: ${d}`);

export function hasValue(r: SenmlRecord): boolean {
  return r.v !== undefined || r.vs !== undefined || r.vb !== undefined || r.vd !== undefined || r.vlo !== undefined;
}

/** Resolves names and times; yields [path, record, time]. */
function* resolve(records: SenmlRecord[], ctx?: DecodeContext): Generator<[Lwm2mPath, SenmlRecord, number | undefined]> {
  let bn = '';
  let bt: number | undefined;
  let bv = 0;
  for (const [i, r] of records.entries()) {
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bv !== undefined) bv = r.bv;
    let name = bn + (r.n ?? '');
    if (name === '') throw bad(`record ${i} has no name (RFC 8428 §4.5.1)`);
    // A relative name (no leading "/") is taken relative to the request path.
    if (name[0] !== '/' && ctx) name = `${ctx.path.toString().replace(/\/$/, '')}/${name}`;
    name = name.replace(/\/\//g, '/');
    if (name.length > 1 && name.endsWith('/')) name = name.slice(0, -1);
    let path: Lwm2mPath;
    try {
      path = Lwm2mPath.parse(name);
    } catch {
      throw bad(`record ${i}: name "${name.slice(0, 64)}" is not an LwM2M path`);
    }
    const t = bt === undefined && r.t === undefined ? undefined : (bt ?? 0) + (r.t ?? 0);
    if (r.v !== undefined && bv !== 0) r.v = typeof r.v === 'bigint' ? Number(r.v) + bv : r.v + bv;
    yield [path, r, t];
  }
}

function typedValue(r: SenmlRecord, type: ResourceType | undefined, path: string, opaqueAsText: boolean): Lwm2mValue {
  const wrong = (field: string) => Lwm2mErrors.typeMismatch(`${path}: SenML "${field}" for a ${type} resource`);
  if (r.v !== undefined) {
    if (type === 'string' || type === 'opaque' || type === 'boolean' || type === 'objlnk' || type === 'corelnk') throw wrong('v');
    return checkValue(r.v, type, path);
  }
  if (r.vs !== undefined) {
    // LwM2M 1.0 JSON (§6.4.4) carries Opaque as base64 in "sv".
    if (opaqueAsText && type === 'opaque') return base64Decode(r.vs, path);
    if (type !== undefined && type !== 'string' && type !== 'corelnk') throw wrong('vs');
    return r.vs;
  }
  if (r.vb !== undefined) {
    if (type !== undefined && type !== 'boolean') throw wrong('vb');
    return r.vb;
  }
  if (r.vd !== undefined) {
    if (type !== undefined && type !== 'opaque') throw wrong('vd');
    return typeof r.vd === 'string' ? base64Decode(r.vd, path) : r.vd;
  }
  if (r.vlo !== undefined) {
    if (type !== undefined && type !== 'objlnk') throw wrong('vlo');
    return parseObjlnk(r.vlo, path);
  }
  throw bad(`${path}: record has no value`);
}

/**
 * Records -> leaf values. Records without a value (composite requests, deletes in
 * Write-Composite) are skipped; use `recordsToPaths` for those.
 */
export function recordsToValues(records: SenmlRecord[], ctx: DecodeContext, opaqueAsText = false): ResourceValue[] {
  const out: ResourceValue[] = [];
  for (const [path, r, t] of resolve(records, ctx)) {
    if (!hasValue(r)) continue;
    if (path.resourceId === undefined) throw bad(`value for ${path}, which is not a resource`);
    const type = resourceType(ctx, path);
    const rv: ResourceValue = { path: path.toString(), value: typedValue(r, type, path.toString(), opaqueAsText) };
    if (type !== undefined) rv.type = type;
    if (t !== undefined) rv.time = t;
    out.push(rv);
  }
  return out;
}

export function recordsToPaths(records: SenmlRecord[]): Lwm2mPath[] {
  return [...resolve(records)].map(([p]) => p);
}

/**
 * Values -> records. The first record carries `bn` = the request path (Anjay style, each
 * `n` then starts with "/"), or no base name for the root path.
 */
export function valuesToRecords(values: ResourceValue[], ctx: EncodeContext): SenmlRecord[] {
  const base = ctx.path.level === 'root' ? '' : ctx.path.toString();
  return values.map((v, i) => {
    const p = Lwm2mPath.parse(v.path);
    if (!p.startsWith(ctx.path)) throw Lwm2mErrors.notAcceptable(`SenML: value ${v.path} is not under ${ctx.path}`);
    const r: SenmlRecord = {};
    if (i === 0 && base !== '') r.bn = base;
    const rel = v.path.slice(base.length);
    if (rel !== '') r.n = rel;
    if (v.time !== undefined) r.t = v.time;
    const type = encodeType(v, p, ctx);
    const c = checkValue(v.value, type, v.path);
    switch (type) {
      case 'string':
      case 'corelnk':
        r.vs = c as string;
        break;
      case 'boolean':
        r.vb = c as boolean;
        break;
      case 'opaque':
        r.vd = c as Uint8Array;
        break;
      case 'objlnk': {
        const o = c as { objectId: number; instanceId: number };
        r.vlo = `${o.objectId}:${o.instanceId}`;
        break;
      }
      default:
        r.v = c as number | bigint;
    }
    return r;
  });
}

export function pathsToRecords(paths: Lwm2mPath[]): SenmlRecord[] {
  return paths.map((p) => ({ n: p.toString() }));
}

export function checkRecordCount(n: number, limits: SenmlLimits): void {
  const max = limits.maxRecords ?? 65_536;
  if (n > max) throw Lwm2mErrors.payloadLimit(`SenML: ${n} records over ${max}`);
}
