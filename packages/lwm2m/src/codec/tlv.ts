/**
 * OMA-TLV (11542, legacy 1542): LwM2M 1.0 Core §6.4.3 / 1.1 §7.4.3.
 *
 * Type byte: bits 7-6 kind (00 object instance, 01 resource instance, 10 multiple resource,
 * 11 resource with value), bit 5 identifier length (8/16 bits), bits 4-3 length type
 * (0: length in bits 2-0, 1/2/3: 8/16/24-bit length field). Nesting is at most object
 * instance > multiple resource > resource instance, so depth is bounded by the format.
 */
import { ByteWriter } from '@m2mhub/core';
import { Lwm2mErrors } from '../node/errors';
import { Lwm2mPath } from '../node/path';
import { type Lwm2mValue, type ResourceType, type ResourceValue, isObjlnk } from '../node/value';
import { leaf } from './single';
import { ContentFormat, type ContentCodec, type DecodeContext, type EncodeContext } from './types';
import { checkValue, encodeType, normInt, resourceType } from './typing';

export const TlvKind = { OBJECT_INSTANCE: 0, RESOURCE_INSTANCE: 1, MULTIPLE_RESOURCE: 2, RESOURCE: 3 } as const;

export interface TlvEntry {
  kind: number;
  id: number;
  /** The value bytes (for nested kinds: the encoded children). */
  value: Uint8Array;
  children?: TlvEntry[];
}

export interface TlvLimits {
  /** Most TLV entries in one payload (default 65,536). */
  maxEntries?: number;
}

const bad = (d: string) => Lwm2mErrors.malformedPayload(`TLV: ${d}`);

/** Parses TLV entries (recursing into object instances and multiple resources). Never reads past the buffer. */
export function parseTlv(buf: Uint8Array, limits: TlvLimits = {}): TlvEntry[] {
  const budget = { left: limits.maxEntries ?? 65_536 };
  return parseLevel(buf, 0, buf.length, 0, budget);
}

function parseLevel(buf: Uint8Array, start: number, end: number, depth: number, budget: { left: number }): TlvEntry[] {
  const out: TlvEntry[] = [];
  let p = start;
  while (p < end) {
    if (--budget.left < 0) throw Lwm2mErrors.payloadLimit('TLV: too many entries');
    const at = p;
    const t = buf[p++]!;
    const kind = t >> 6;
    const idLen = t & 0x20 ? 2 : 1;
    const lenType = (t >> 3) & 0x03;
    if (p + idLen + lenType > end) throw bad(`header truncated at byte ${at}`);
    const id = idLen === 2 ? (buf[p]! << 8) | buf[p + 1]! : buf[p]!;
    p += idLen;
    let len = t & 0x07;
    if (lenType > 0) {
      len = 0;
      for (let i = 0; i < lenType; i++) len = (len << 8) | buf[p++]!;
    }
    if (p + len > end) throw bad(`length ${len} at byte ${at} runs past the end (${end - p} bytes left)`);
    const entry: TlvEntry = { kind, id, value: buf.subarray(p, p + len) };
    if (kind === TlvKind.OBJECT_INSTANCE || kind === TlvKind.MULTIPLE_RESOURCE) {
      if (depth >= 2) throw bad(`nested too deep at byte ${at}`);
      entry.children = parseLevel(buf, p, p + len, depth + 1, budget);
      const want: number[] = kind === TlvKind.OBJECT_INSTANCE ? [TlvKind.RESOURCE, TlvKind.MULTIPLE_RESOURCE] : [TlvKind.RESOURCE_INSTANCE];
      for (const c of entry.children) {
        if (!want.includes(c.kind)) throw bad(`entry kind ${c.kind} not allowed inside kind ${kind} at byte ${at}`);
      }
    }
    out.push(entry);
    p += len;
  }
  return out;
}

function readInt(b: Uint8Array, path: string): number | bigint {
  if (b.length !== 1 && b.length !== 2 && b.length !== 4 && b.length !== 8) {
    throw Lwm2mErrors.typeMismatch(`${path}: integer of ${b.length} bytes (1, 2, 4 or 8)`);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === 1) return dv.getInt8(0);
  if (b.length === 2) return dv.getInt16(0);
  if (b.length === 4) return dv.getInt32(0);
  return normInt(dv.getBigInt64(0));
}

function readUint(b: Uint8Array, path: string): number | bigint {
  if (b.length !== 1 && b.length !== 2 && b.length !== 4 && b.length !== 8) {
    throw Lwm2mErrors.typeMismatch(`${path}: unsigned integer of ${b.length} bytes (1, 2, 4 or 8)`);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length === 1) return dv.getUint8(0);
  if (b.length === 2) return dv.getUint16(0);
  if (b.length === 4) return dv.getUint32(0);
  return normInt(dv.getBigUint64(0));
}

/** Decodes a TLV value's bytes by the model type (LwM2M 1.0 §6.4.3 Table 21 / 1.1 Appendix C). */
export function decodeTlvValue(b: Uint8Array, type: ResourceType | undefined, path: string): Lwm2mValue {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (type) {
    case undefined:
    case 'opaque':
    case 'none':
      return b.slice();
    case 'string':
    case 'corelnk':
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(b);
      } catch {
        throw Lwm2mErrors.typeMismatch(`${path}: string is not valid UTF-8`);
      }
    case 'integer':
    case 'time':
      return readInt(b, path);
    case 'unsignedInteger':
      return readUint(b, path);
    case 'float':
      if (b.length === 4) return dv.getFloat32(0);
      if (b.length === 8) return dv.getFloat64(0);
      throw Lwm2mErrors.typeMismatch(`${path}: float of ${b.length} bytes (4 or 8)`);
    case 'boolean':
      if (b.length === 1 && (b[0] === 0 || b[0] === 1)) return b[0] === 1;
      throw Lwm2mErrors.typeMismatch(`${path}: boolean must be one byte 0 or 1`);
    case 'objlnk':
      if (b.length !== 4) throw Lwm2mErrors.typeMismatch(`${path}: objlnk of ${b.length} bytes (4)`);
      return { objectId: dv.getUint16(0), instanceId: dv.getUint16(2) };
  }
}

function intBytes(v: number | bigint, unsigned: boolean): Uint8Array {
  if (typeof v === 'number' && v >= -0x80000000 && v <= (unsigned ? 0xffffffff : 0x7fffffff)) {
    const lim = unsigned ? [0x100, 0x10000] : [0x80, 0x8000];
    const n = v < lim[0]! && v >= -(lim[0] as number) ? 1 : v < lim[1]! && v >= -(lim[1] as number) ? 2 : 4;
    const out = new Uint8Array(n);
    for (let i = n - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) out[i] = x & 0xff;
    return out;
  }
  const big = BigInt(v);
  const sizes = [1, 2, 4, 8];
  for (const n of sizes) {
    const bits = BigInt(n * 8);
    const fits = unsigned ? big >= 0n && big < 1n << bits : big >= -(1n << (bits - 1n)) && big < 1n << (bits - 1n);
    if (fits) {
      const out = new Uint8Array(n);
      let x = BigInt.asUintN(n * 8, big);
      for (let i = n - 1; i >= 0; i--) {
        out[i] = Number(x & 0xffn);
        x >>= 8n;
      }
      return out;
    }
  }
  throw Lwm2mErrors.typeMismatch(`integer ${v} does not fit 64 bits`);
}

/** Encodes a value's bytes by type: shortest integer (1/2/4/8), float32 when exact else float64. */
export function encodeTlvValue(v: Lwm2mValue, type: ResourceType, path: string): Uint8Array {
  const c = checkValue(v, type, path);
  switch (type) {
    case 'string':
    case 'corelnk':
      return new TextEncoder().encode(c as string);
    case 'integer':
    case 'time':
      return intBytes(c as number | bigint, false);
    case 'unsignedInteger':
      return intBytes(c as number | bigint, true);
    case 'float': {
      const n = c as number;
      const dv = new DataView(new ArrayBuffer(8));
      if (Math.fround(n) === n || Number.isNaN(n)) {
        dv.setFloat32(0, n);
        return new Uint8Array(dv.buffer, 0, 4);
      }
      dv.setFloat64(0, n);
      return new Uint8Array(dv.buffer);
    }
    case 'boolean':
      return Uint8Array.of(c ? 1 : 0);
    case 'opaque':
      return c as Uint8Array;
    case 'objlnk': {
      if (!isObjlnk(c)) throw Lwm2mErrors.typeMismatch(`${path}: not an objlnk`);
      return Uint8Array.of(c.objectId >> 8, c.objectId & 0xff, c.instanceId >> 8, c.instanceId & 0xff);
    }
    case 'none':
      throw Lwm2mErrors.typeMismatch(`${path}: an executable resource has no value`);
  }
}

export function writeTlv(w: ByteWriter, kind: number, id: number, value: Uint8Array): void {
  if (value.length > 0xffffff) throw Lwm2mErrors.payloadLimit('TLV: value over 16 MiB');
  const idLong = id > 0xff;
  const lenType = value.length < 8 ? 0 : value.length <= 0xff ? 1 : value.length <= 0xffff ? 2 : 3;
  w.u8((kind << 6) | (idLong ? 0x20 : 0) | (lenType << 3) | (lenType === 0 ? value.length : 0));
  if (idLong) w.u16(id);
  else w.u8(id);
  if (lenType === 1) w.u8(value.length);
  else if (lenType === 2) w.u16(value.length);
  else if (lenType === 3) w.u24(value.length);
  w.bytes(value);
}

/** Values grouped as instance -> resource -> (single value | resource instance -> value). */
type ResNode = { single?: ResourceValue; instances: Map<number, ResourceValue>; multiple: boolean };

export class TlvCodec implements ContentCodec {
  readonly name = 'tlv';
  constructor(
    readonly format: number = ContentFormat.TLV,
    private readonly limits: TlvLimits = {},
  ) {}

  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    const path = ctx.path;
    if (path.level === 'root') throw Lwm2mErrors.notAcceptable('TLV cannot carry the root path');
    const entries = parseTlv(payload, this.limits);
    const out: ResourceValue[] = [];
    const objectId = path.objectId as number;
    const emit = (p: Lwm2mPath, bytes: Uint8Array) => {
      const type = resourceType(ctx, p);
      out.push(leaf(p, decodeTlvValue(bytes, type, p.toString()), type));
    };
    const resources = (inst: Lwm2mPath, list: TlvEntry[]) => {
      for (const e of list) {
        if (e.kind === TlvKind.RESOURCE) emit(inst.child(e.id), e.value);
        else if (e.kind === TlvKind.MULTIPLE_RESOURCE) {
          const rp = inst.child(e.id);
          for (const ri of e.children ?? []) emit(rp.child(ri.id), ri.value);
        } else throw bad(`unexpected entry kind ${e.kind} for ${inst}`);
      }
    };
    switch (path.level) {
      case 'object':
        for (const e of entries) {
          if (e.kind !== TlvKind.OBJECT_INSTANCE) throw bad(`object-level payload must hold object instances (${path})`);
          resources(Lwm2mPath.of(objectId, e.id), e.children ?? []);
        }
        break;
      case 'instance': {
        // Some clients wrap an instance payload in its object instance TLV; accept both.
        const first = entries[0];
        if (entries.length === 1 && first?.kind === TlvKind.OBJECT_INSTANCE) {
          if (first.id !== path.instanceId) throw bad(`instance ${first.id} in a payload for ${path}`);
          resources(path, first.children ?? []);
        } else resources(path, entries);
        break;
      }
      case 'resource': {
        const inst = path.parent();
        for (const e of entries) {
          if (e.kind === TlvKind.OBJECT_INSTANCE && e.id === path.instanceId) resources(inst, e.children ?? []);
          else if (e.kind === TlvKind.RESOURCE_INSTANCE) emit(path.child(e.id), e.value);
          else if (e.kind === TlvKind.RESOURCE || e.kind === TlvKind.MULTIPLE_RESOURCE) resources(inst, [e]);
          else throw bad(`unexpected entry for ${path}`);
        }
        if (out.some((v) => !Lwm2mPath.parse(v.path).startsWith(path))) throw bad(`payload for another resource than ${path}`);
        break;
      }
      case 'resourceInstance': {
        const res = path.parent();
        for (const e of entries) {
          if (e.kind === TlvKind.RESOURCE_INSTANCE) emit(res.child(e.id), e.value);
          else if (e.kind === TlvKind.MULTIPLE_RESOURCE && e.id === path.resourceId) {
            for (const ri of e.children ?? []) emit(res.child(ri.id), ri.value);
          } else throw bad(`unexpected entry for ${path}`);
        }
        break;
      }
    }
    return out;
  }

  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array {
    const path = ctx.path;
    if (path.level === 'root') throw Lwm2mErrors.notAcceptable('TLV cannot carry the root path');
    // instance id -> resource id -> node
    const tree = new Map<number, Map<number, ResNode>>();
    for (const v of values) {
      const p = Lwm2mPath.parse(v.path);
      if (!p.startsWith(path) || p.resourceId === undefined) {
        throw Lwm2mErrors.notAcceptable(`TLV: value ${v.path} is not a resource under ${path}`);
      }
      const inst = tree.get(p.instanceId as number) ?? new Map<number, ResNode>();
      tree.set(p.instanceId as number, inst);
      const multiple = ctx.model.getResource(p.objectId as number, p.resourceId, ctx.versions?.get(p.objectId as number))?.multiple;
      const node: ResNode = inst.get(p.resourceId) ?? { instances: new Map(), multiple: multiple === true };
      inst.set(p.resourceId, node);
      if (p.resourceInstanceId === undefined) node.single = v;
      else {
        node.multiple = true;
        node.instances.set(p.resourceInstanceId, v);
      }
    }
    const bytesOf = (v: ResourceValue) => {
      const p = Lwm2mPath.parse(v.path);
      return encodeTlvValue(v.value, encodeType(v, p, ctx), v.path);
    };
    const writeResource = (w: ByteWriter, rid: number, node: ResNode) => {
      if (node.multiple) {
        if (node.single) throw Lwm2mErrors.notAcceptable(`TLV: ${node.single.path} is a multiple resource`);
        const inner = new ByteWriter();
        for (const [ri, v] of [...node.instances].sort((a, b) => a[0] - b[0])) writeTlv(inner, TlvKind.RESOURCE_INSTANCE, ri, bytesOf(v));
        writeTlv(w, TlvKind.MULTIPLE_RESOURCE, rid, inner.finish());
      } else if (node.single) writeTlv(w, TlvKind.RESOURCE, rid, bytesOf(node.single));
    };
    const writeInstance = (w: ByteWriter, res: Map<number, ResNode>) => {
      for (const [rid, node] of [...res].sort((a, b) => a[0] - b[0])) writeResource(w, rid, node);
    };
    const w = new ByteWriter(256);
    switch (path.level) {
      case 'object':
        for (const [iid, res] of [...tree].sort((a, b) => a[0] - b[0])) {
          const inner = new ByteWriter(256);
          writeInstance(inner, res);
          writeTlv(w, TlvKind.OBJECT_INSTANCE, iid, inner.finish());
        }
        break;
      case 'instance':
      case 'resource':
        for (const res of tree.values()) writeInstance(w, res);
        break;
      case 'resourceInstance': {
        const v = values[0];
        if (values.length !== 1 || !v) throw Lwm2mErrors.notAcceptable('TLV: one value for a resource instance path');
        writeTlv(w, TlvKind.RESOURCE_INSTANCE, path.resourceInstanceId as number, bytesOf(v));
        break;
      }
    }
    return w.finish();
  }
}
