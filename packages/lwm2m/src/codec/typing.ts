/**
 * Values typed by the object model (LwM2M Core Appendix C). Every codec goes through these
 * helpers, so a value that does not fit its resource type is the same typed error
 * (M2M_LWM2M_TYPE_MISMATCH) whatever the format, never a silent conversion.
 * Integers are `number` while safe (|v| <= 2^53-1) and `bigint` up to 64 bits beyond that.
 */
import type { ResourceModel } from '../model/types';
import { Lwm2mErrors } from '../node/errors';
import type { Lwm2mPath } from '../node/path';
import { type Lwm2mValue, type Objlnk, type ResourceType, type ResourceValue, isObjlnk } from '../node/value';
import type { DecodeContext } from './types';

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
export const UINT64_MAX = (1n << 64n) - 1n;

/** The model of the resource a (resource or resource-instance) path points at, honouring the client's `ver=`. */
export function resourceModel(ctx: DecodeContext, path: Lwm2mPath): ResourceModel | undefined {
  if (path.objectId === undefined || path.resourceId === undefined) return undefined;
  return ctx.model.getResource(path.objectId, path.resourceId, ctx.versions?.get(path.objectId));
}

export function resourceType(ctx: DecodeContext, path: Lwm2mPath): ResourceType | undefined {
  return resourceModel(ctx, path)?.type;
}

const mismatch = (path: string, type: string, v: unknown) =>
  Lwm2mErrors.typeMismatch(`${path}: ${describe(v)} is not a valid ${type}`);

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} opaque bytes`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (isObjlnk(v)) return `objlnk ${v.objectId}:${v.instanceId}`;
  return String(v);
}

/** Normalises an integer: bigint within the safe range becomes a number. */
export function normInt(v: bigint): number | bigint {
  return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Checks that `v` fits `type` and returns it normalised; throws M2M_LWM2M_TYPE_MISMATCH.
 * `undefined` type (unknown resource) accepts any value.
 */
export function checkValue(v: Lwm2mValue, type: ResourceType | undefined, path: string): Lwm2mValue {
  switch (type) {
    case undefined:
      return v;
    case 'string':
    case 'corelnk':
      if (typeof v !== 'string') throw mismatch(path, type, v);
      return v;
    case 'integer':
    case 'time':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      if (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX) return normInt(v);
      throw mismatch(path, type, v);
    case 'unsignedInteger':
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
      if (typeof v === 'bigint' && v >= 0n && v <= UINT64_MAX) return normInt(v);
      throw mismatch(path, type, v);
    case 'float':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      throw mismatch(path, type, v);
    case 'boolean':
      if (typeof v !== 'boolean') throw mismatch(path, type, v);
      return v;
    case 'opaque':
      if (!(v instanceof Uint8Array)) throw mismatch(path, type, v);
      return v;
    case 'objlnk':
      if (!isObjlnk(v) || !validObjlnkPart(v.objectId) || !validObjlnkPart(v.instanceId)) throw mismatch(path, type, v);
      return { objectId: v.objectId, instanceId: v.instanceId };
    case 'none':
      throw Lwm2mErrors.typeMismatch(`${path}: an executable resource has no value`);
  }
}

function validObjlnkPart(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

/** The type a value carries by its JS shape, for resources the model does not know. */
export function inferType(v: Lwm2mValue): ResourceType {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'bigint') return 'integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (v instanceof Uint8Array) return 'opaque';
  return 'objlnk';
}

/** The type to encode a value with: its own `type`, else the model's, else its JS shape. */
export function encodeType(rv: ResourceValue, path: Lwm2mPath, ctx: DecodeContext): ResourceType {
  const t = rv.type ?? resourceType(ctx, path) ?? inferType(rv.value);
  return t === 'none' ? inferType(rv.value) : t;
}

const INT_RE = /^[+-]?[0-9]{1,20}$/;
const FLOAT_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|^[+-]?(?:Infinity|NaN)$/;

/** Parses the text form of a value (LwM2M Core §7.3.1 text/plain, also SenML `vlo`). */
export function parseText(s: string, type: ResourceType | undefined, path: string): Lwm2mValue {
  switch (type) {
    case undefined:
    case 'string':
    case 'corelnk':
      return s;
    case 'integer':
    case 'time':
    case 'unsignedInteger': {
      if (!INT_RE.test(s)) throw mismatch(path, type, s);
      return checkValue(BigInt(s), type, path);
    }
    case 'float':
      if (!FLOAT_RE.test(s)) throw mismatch(path, type, s);
      return Number(s);
    case 'boolean':
      if (s === '1' || s === 'true') return true;
      if (s === '0' || s === 'false') return false;
      throw mismatch(path, type, s);
    case 'objlnk':
      return parseObjlnk(s, path);
    case 'opaque':
      return base64Decode(s, path);
    case 'none':
      if (s === '') return s;
      throw Lwm2mErrors.typeMismatch(`${path}: an executable resource has no value`);
  }
}

export function parseObjlnk(s: string, path: string): Objlnk {
  const m = /^([0-9]{1,5}):([0-9]{1,5})$/.exec(s);
  if (!m) throw mismatch(path, 'objlnk', s);
  return checkValue({ objectId: Number(m[1]), instanceId: Number(m[2]) }, 'objlnk', path) as Objlnk;
}

/** The text form of a value (LwM2M Core §7.3.1): booleans as 1/0, objlnk as "O:I", opaque as base64. */
export function formatText(v: Lwm2mValue, type: ResourceType): string {
  if (type === 'boolean' && typeof v === 'boolean') return v ? '1' : '0';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (isObjlnk(v)) return `${v.objectId}:${v.instanceId}`;
  return String(v);
}

/** Base64 or base64url, padding optional (RFC 4648 §4/§5; SenML `vd` is base64url, §4.3 of RFC 8428). */
export function base64Decode(s: string, path: string): Uint8Array {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
    throw Lwm2mErrors.typeMismatch(`${path}: not base64 data`);
  }
  return new Uint8Array(Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

export function base64UrlEncode(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}
