/**
 * LwM2M values <-> JSON (DESIGN.md §3): Boolean as JSON boolean, Integer/Float/Time as
 * numbers, Objlnk as "O:I", Opaque as base64. Types come from the object model; a value the
 * device sent in a looser form (text "1" for a boolean) is coerced to the model's type.
 */
import { isObjlnk, Lwm2mPath, type Lwm2mValue, type ModelProvider, type ResourceType, type ResourceValue } from '@m2mhub/lwm2m';
import type { WriteItem } from './command';
import type { ContentItem, Json } from './reply';

export function resourceTypeOf(path: string, model: ModelProvider, versions?: Map<number, string>): ResourceType | undefined {
  let p: Lwm2mPath;
  try {
    p = Lwm2mPath.parse(path);
  } catch {
    return undefined;
  }
  if (p.objectId === undefined || p.resourceId === undefined) return undefined;
  return model.getResource(p.objectId, p.resourceId, versions?.get(p.objectId))?.type;
}

function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** One decoded value as JSON, typed by `type` when known. */
export function valueToJson(v: Lwm2mValue, type: ResourceType | undefined): Json {
  if (v instanceof Uint8Array) return type === 'string' || type === 'corelnk' ? new TextDecoder().decode(v) : toBase64(v);
  if (isObjlnk(v)) return `${v.objectId}:${v.instanceId}`;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  switch (type) {
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 1 || v === '1' || v === 'true') return true;
      if (v === 0 || v === '0' || v === 'false') return false;
      return typeof v === 'number' ? v : String(v);
    case 'integer':
    case 'unsignedInteger':
    case 'float':
    case 'time':
      if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      return typeof v === 'boolean' ? v : String(v);
    case 'string':
    case 'corelnk':
      return typeof v === 'string' ? v : String(v);
    default:
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      return v as Json;
  }
}

/** Decoded values as EMQX `content`: `[{path, value}]`, plus `time` when the device sent one. */
export function toContent(values: ResourceValue[], model: ModelProvider, versions?: Map<number, string>): ContentItem[] {
  return values.map((rv) => {
    const item: ContentItem = { path: rv.path, value: valueToJson(rv.value, rv.type ?? resourceTypeOf(rv.path, model, versions)) };
    if (rv.time !== undefined) item.time = rv.time;
    return item;
  });
}

/** EMQX type names ("String", "Integer", ...) and ours, to a ResourceType. */
const TYPE_NAMES: Record<string, ResourceType> = {
  string: 'string',
  integer: 'integer',
  int: 'integer',
  unsignedinteger: 'unsignedInteger',
  'unsigned integer': 'unsignedInteger',
  uint: 'unsignedInteger',
  float: 'float',
  boolean: 'boolean',
  bool: 'boolean',
  opaque: 'opaque',
  time: 'time',
  objlnk: 'objlnk',
  corelnk: 'corelnk',
};

export class ValueError extends Error {}

/** A user's `{path, type, value}` to a ResourceValue of the model's type; throws ValueError with a clear text. */
export function writeItemToValue(item: WriteItem, model: ModelProvider, versions?: Map<number, string>): ResourceValue {
  const modelType = resourceTypeOf(item.path, model, versions);
  let given: ResourceType | undefined;
  if (item.type !== undefined) {
    given = TYPE_NAMES[item.type.toLowerCase()];
    if (!given) throw new ValueError(`${item.path}: unknown type "${item.type}" (String, Integer, UnsignedInteger, Float, Boolean, Opaque, Time, Objlnk)`);
  }
  const type = modelType ?? given;
  if (!type) throw new ValueError(`${item.path}: no object definition gives its type; add "type"`);
  if (modelType && given && !compatible(modelType, given)) {
    throw new ValueError(`${item.path}: the object model says ${modelType}, the command says ${item.type}`);
  }
  return { path: item.path, type, value: jsonToValue(item.path, item.value, type) };
}

function compatible(a: ResourceType, b: ResourceType): boolean {
  if (a === b) return true;
  const numeric: ResourceType[] = ['integer', 'unsignedInteger', 'time'];
  return (numeric.includes(a) && numeric.includes(b)) || (a === 'float' && numeric.includes(b));
}

export function jsonToValue(path: string, v: Json, type: ResourceType): Lwm2mValue {
  const bad = (what: string): never => {
    throw new ValueError(`${path}: ${JSON.stringify(v)} is not ${what}`);
  };
  switch (type) {
    case 'string':
    case 'corelnk':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      return bad('a string');
    case 'integer':
    case 'unsignedInteger':
    case 'time': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? BigInt(v.trim()) : typeof v === 'number' && Number.isInteger(v) ? v : bad('an integer');
      if (type !== 'integer' && n < 0) bad('a non-negative integer');
      if (typeof n === 'bigint') {
        if (n > 0xffff_ffff_ffff_ffffn || n < -(2n ** 63n)) bad('a 64-bit integer');
        return Number.isSafeInteger(Number(n)) ? Number(n) : n;
      }
      return n;
    }
    case 'float': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
      if (!Number.isFinite(n)) bad('a number');
      return n;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === '1' || v === 1) return true;
      if (v === 'false' || v === '0' || v === 0) return false;
      return bad('a boolean');
    case 'opaque': {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) return bad('base64');
      return new Uint8Array(Buffer.from(v, 'base64'));
    }
    case 'objlnk': {
      const m = typeof v === 'string' ? /^(\d{1,5}):(\d{1,5})$/.exec(v) : null;
      if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535) return bad('an object link "O:I"');
      return { objectId: Number(m[1]), instanceId: Number(m[2]) };
    }
    case 'none':
      return bad('writable (type none)');
  }
}
