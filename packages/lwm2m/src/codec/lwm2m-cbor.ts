/**
 * application/vnd.oma.lwm2m+cbor (11544): LwM2M 1.2 Core §7.4.6. Nested CBOR maps keyed by
 * path ids from the root (`{3: {0: {0: "anjay", 7: {0: 3800}}}}`); a key may also be an array
 * of ids standing for several levels (`{[3, 0]: {...}}`). Leaves hold the value as in the
 * CBOR format (§7.3.3); `null` leaves name paths (Read-/Observe-Composite requests).
 */
import { Lwm2mErrors } from '../node/errors';
import { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import { type CborKey, type CborLimits, type CborValue, decodeCbor, encodeCbor } from './cbor';
import { fromCbor, toCbor } from './cbor-values';
import { leaf } from './single';
import { ContentFormat, type ContentCodec, type DecodeContext, type EncodeContext } from './types';
import { encodeType, resourceType } from './typing';

const bad = (d: string) => Lwm2mErrors.malformedPayload(`LwM2M CBOR: ${d}`);

function keyIds(k: CborKey): number[] {
  const ids = Array.isArray(k) ? k : [k];
  if (ids.length === 0) throw bad('empty path key');
  for (const id of ids) if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 65534) throw bad(`bad path key ${String(id)}`);
  return ids as number[];
}

/** Walks the nested maps; calls `visit` with each leaf's absolute ids and value. */
function walk(node: CborValue, prefix: number[], visit: (ids: number[], v: CborValue) => void): void {
  if (node instanceof Map) {
    if (prefix.length >= 4) throw bad(`map below the resource instance level at /${prefix.join('/')}`);
    for (const [k, v] of node) {
      const ids = [...prefix, ...keyIds(k)];
      if (ids.length > 4) throw bad(`path /${ids.join('/')} is too long`);
      walk(v, ids, visit);
    }
  } else visit(prefix, node);
}

/** Nested maps from absolute paths; the common prefix of all paths becomes one array key. */
function nest(entries: [number[], CborValue][], minPrefix: number): CborValue {
  const root = new Map<CborKey, CborValue>();
  if (entries.length === 0) return root;
  let common = entries[0]![0].length - 1;
  for (const [ids] of entries) {
    let i = 0;
    while (i < common && i < ids.length - 1 && ids[i] === entries[0]![0][i]) i++;
    common = i;
  }
  common = Math.max(Math.min(common, minPrefix), 0);
  const put = (m: Map<CborKey, CborValue>, ids: number[], v: CborValue) => {
    const [first, ...rest] = ids;
    if (rest.length === 0) {
      m.set(first!, v);
      return;
    }
    let child = m.get(first!);
    if (!(child instanceof Map)) {
      child = new Map<CborKey, CborValue>();
      m.set(first!, child);
    }
    put(child, rest, v);
  };
  const inner = new Map<CborKey, CborValue>();
  for (const [ids, v] of entries) put(common > 0 ? inner : root, ids.slice(common), v);
  if (common > 1) root.set(entries[0]![0].slice(0, common), inner);
  else if (common === 1) root.set(entries[0]![0][0]!, inner);
  return root;
}

export class Lwm2mCborCodec implements ContentCodec {
  readonly format: number = ContentFormat.LWM2M_CBOR;
  readonly name = 'lwm2m+cbor';
  constructor(private readonly limits: CborLimits = {}) {}

  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    const doc = decodeCbor(payload, this.limits);
    if (!(doc instanceof Map)) throw bad('top level is not a map');
    const out: ResourceValue[] = [];
    walk(doc, [], (ids, v) => {
      if (v === null) return;
      const path = new Lwm2mPath(ids);
      if (path.resourceId === undefined) throw bad(`value at ${path}, which is not a resource`);
      const type = resourceType(ctx, path);
      out.push(leaf(path, fromCbor(v, type, path.toString()), type));
    });
    return out;
  }

  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array {
    const entries = values.map((v): [number[], CborValue] => {
      const p = Lwm2mPath.parse(v.path);
      if (!p.startsWith(ctx.path)) throw Lwm2mErrors.notAcceptable(`LwM2M CBOR: value ${v.path} is not under ${ctx.path}`);
      return [p.ids, toCbor(v.value, encodeType(v, p, ctx), v.path)];
    });
    return encodeCbor(nest(entries, ctx.path.ids.length));
  }

  decodePaths(payload: Uint8Array): Lwm2mPath[] {
    const doc = decodeCbor(payload, this.limits);
    if (!(doc instanceof Map)) throw bad('top level is not a map');
    const out: Lwm2mPath[] = [];
    walk(doc, [], (ids) => out.push(new Lwm2mPath(ids)));
    return out;
  }

  encodePaths(paths: Lwm2mPath[]): Uint8Array {
    return encodeCbor(nest(paths.map((p) => [p.ids, null]), 0));
  }
}
