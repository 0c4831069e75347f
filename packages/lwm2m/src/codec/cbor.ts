/**
 * A small, bounded CBOR (RFC 8949) encoder and decoder for the LwM2M content formats.
 *
 * Decoding: definite and indefinite lengths (§3.2), half/single/double floats (§3.3),
 * tags kept as `CborTag` or rejected (option), simple values false/true/null/undefined;
 * every allocation is bounded by `CborLimits` (depth, item count, string length).
 * Encoding: deterministic (§4.2.1: shortest heads, map keys sorted by their encoded bytes,
 * floats in the shortest form that keeps the value exactly).
 * Integers: a `number` while it is a safe integer, a `bigint` beyond 2^53-1 (up to 64 bits).
 */
import { ByteWriter } from '@m2mhub/core';
import { Lwm2mErrors } from '../node/errors';

export class CborTag {
  constructor(
    readonly tag: number | bigint,
    readonly value: CborValue,
  ) {}
}

/** Map keys: scalars, or (LwM2M CBOR, LwM2M 1.2 §7.4.6) arrays of path ids. */
export type CborKey = number | bigint | string | boolean | null | CborValue[];
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<CborKey, CborValue>
  | CborTag
  | CborFloat;

export interface CborLimits {
  /** Deepest nesting of arrays, maps and tags (default 32). */
  maxDepth?: number;
  /** Most data items in one payload (default 100,000). */
  maxItems?: number;
  /** Longest byte or text string in bytes (default 1 MiB). */
  maxStringBytes?: number;
  /** Tags: keep them as CborTag ('keep', default) or reject the payload ('reject'). */
  tags?: 'keep' | 'reject';
}

export const DEFAULT_CBOR_LIMITS: Required<CborLimits> = {
  maxDepth: 32,
  maxItems: 100_000,
  maxStringBytes: 1024 * 1024,
  tags: 'keep',
};

const bad = (detail: string) => Lwm2mErrors.malformedPayload(`CBOR: ${detail}`);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();
const BREAK = Symbol('break');

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

class Decoder {
  pos = 0;
  items = 0;
  private readonly view: DataView;
  constructor(
    private readonly buf: Uint8Array,
    private readonly lim: Required<CborLimits>,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw bad(`truncated at byte ${this.pos} (need ${n})`);
  }
  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  /** Reads the argument of a head (§3): a number, or a bigint above 2^53-1. */
  private arg(info: number): number | bigint {
    if (info < 24) return info;
    if (info === 24) return this.u8();
    if (info === 25) {
      this.need(2);
      const v = this.view.getUint16(this.pos);
      this.pos += 2;
      return v;
    }
    if (info === 26) {
      this.need(4);
      const v = this.view.getUint32(this.pos);
      this.pos += 4;
      return v;
    }
    if (info === 27) {
      this.need(8);
      const v = this.view.getBigUint64(this.pos);
      this.pos += 8;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    throw bad(`reserved additional information ${info}`);
  }
  private length(info: number, what: string): number {
    const n = this.arg(info);
    if (typeof n === 'bigint' || n > this.lim.maxStringBytes) {
      throw Lwm2mErrors.payloadLimit(`CBOR ${what} of ${n} bytes over ${this.lim.maxStringBytes}`);
    }
    return n;
  }
  private count(info: number, per: number): number {
    const n = this.arg(info);
    // Every item takes at least one byte: a count beyond the remaining input is malformed.
    if (typeof n === 'bigint' || n * per > this.buf.length - this.pos) throw bad(`container of ${n} items beyond the input`);
    if (n > this.lim.maxItems) throw Lwm2mErrors.payloadLimit(`CBOR container of ${n} items`);
    return n;
  }
  item(depth: number): CborValue | typeof BREAK {
    if (++this.items > this.lim.maxItems) throw Lwm2mErrors.payloadLimit(`CBOR over ${this.lim.maxItems} items`);
    if (depth > this.lim.maxDepth) throw Lwm2mErrors.payloadLimit(`CBOR nested over ${this.lim.maxDepth} levels`);
    const ib = this.u8();
    const major = ib >> 5;
    const info = ib & 0x1f;
    switch (major) {
      case 0:
        return this.arg(info);
      case 1: {
        const n = this.arg(info);
        if (typeof n === 'bigint') return -1n - n;
        const v = -1 - n;
        return Number.isSafeInteger(v) ? v : -1n - BigInt(n);
      }
      case 2:
      case 3: {
        const bytes = info === 31 ? this.chunks(major) : this.take(this.length(info, 'string'));
        if (major === 2) return bytes;
        try {
          return utf8.decode(bytes);
        } catch {
          throw bad('text string is not valid UTF-8');
        }
      }
      case 4: {
        const out: CborValue[] = [];
        if (info === 31) {
          for (;;) {
            const v = this.item(depth + 1);
            if (v === BREAK) return out;
            out.push(v);
          }
        }
        const n = this.count(info, 1);
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case 5: {
        const out = new Map<CborKey, CborValue>();
        const n = info === 31 ? Number.POSITIVE_INFINITY : this.count(info, 2);
        for (let i = 0; i < n; i++) {
          const k = this.item(depth + 1);
          if (k === BREAK) {
            if (info === 31) return out;
            throw bad('unexpected break');
          }
          if (k !== null && typeof k === 'object' && !Array.isArray(k)) throw bad('map key is a map, tag or byte string');
          if (k === undefined) throw bad('map key is undefined');
          if (out.has(k)) throw bad(`duplicate map key ${String(k)}`);
          out.set(k, this.value(depth + 1));
        }
        return out;
      }
      case 6: {
        const tag = this.arg(info);
        if (this.lim.tags === 'reject') throw bad(`tag ${tag} not accepted`);
        return new CborTag(tag, this.value(depth + 1));
      }
      default:
        return this.simple(info);
    }
  }
  value(depth: number): CborValue {
    const v = this.item(depth);
    if (v === BREAK) throw bad('unexpected break');
    return v;
  }
  private simple(info: number): CborValue | typeof BREAK {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 25: {
        this.need(2);
        const v = halfToNumber(this.view.getUint16(this.pos));
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      case 31:
        return BREAK;
      default:
        throw bad(`unsupported simple value ${info}`);
    }
  }
  private take(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** §3.2.3: an indefinite-length string is a series of definite chunks of the same major type. */
  private chunks(major: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      if (++this.items > this.lim.maxItems) throw Lwm2mErrors.payloadLimit(`CBOR over ${this.lim.maxItems} items`);
      const ib = this.u8();
      if (ib === 0xff) break;
      if (ib >> 5 !== major || (ib & 0x1f) === 31) throw bad('bad chunk in an indefinite-length string');
      const part = this.take(this.length(ib & 0x1f, 'string chunk'));
      total += part.length;
      if (total > this.lim.maxStringBytes) throw Lwm2mErrors.payloadLimit('CBOR indefinite string too long');
      parts.push(part);
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Decodes exactly one CBOR data item; trailing bytes are an error. */
export function decodeCbor(buf: Uint8Array, limits: CborLimits = {}): CborValue {
  const d = new Decoder(buf, { ...DEFAULT_CBOR_LIMITS, ...limits });
  const v = d.value(0);
  if (d.pos !== buf.length) throw bad(`${buf.length - d.pos} trailing bytes`);
  return v;
}

function head(w: ByteWriter, major: number, n: number | bigint): void {
  const m = major << 5;
  if (typeof n === 'bigint') {
    if (n <= BigInt(Number.MAX_SAFE_INTEGER)) {
      head(w, major, Number(n));
      return;
    }
    w.u8(m | 27);
    w.u32(Number(n >> 32n));
    w.u32(Number(n & 0xffffffffn));
    return;
  }
  if (n < 24) w.u8(m | n);
  else if (n < 0x100) w.u8(m | 24).u8(n);
  else if (n < 0x10000) w.u8(m | 25).u16(n);
  else if (n < 0x100000000) w.u8(m | 26).u32(n);
  else {
    w.u8(m | 27);
    w.u32(Math.floor(n / 0x100000000));
    w.u32(n >>> 0);
  }
}

/** The float16 bits of `v` when it converts exactly, else undefined (RFC 8949 §4.2.2 preferred serialization). */
function toHalf(v: number): number | undefined {
  if (Number.isNaN(v)) return 0x7e00;
  if (v === Number.POSITIVE_INFINITY) return 0x7c00;
  if (v === Number.NEGATIVE_INFINITY) return 0xfc00;
  if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
  const f32 = new DataView(new ArrayBuffer(4));
  f32.setFloat32(0, v);
  if (f32.getFloat32(0) !== v) return undefined;
  const bits = f32.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const e = ((bits >>> 23) & 0xff) - 127;
  const mant = bits & 0x7fffff;
  if (e >= -14 && e <= 15) {
    if (mant & 0x1fff) return undefined;
    return sign | ((e + 15) << 10) | (mant >> 13);
  }
  if (e >= -24 && e < -14) {
    const sig = 0x800000 | mant;
    const shift = -(e + 1);
    if (sig & ((1 << shift) - 1)) return undefined;
    return sign | (sig >> shift);
  }
  return undefined;
}

function writeFloat(w: ByteWriter, v: number): void {
  const h = toHalf(v);
  if (h !== undefined) {
    w.u8(0xf9).u16(h);
    return;
  }
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat32(0, v);
  if (dv.getFloat32(0) === v) {
    w.u8(0xfa).bytes(new Uint8Array(dv.buffer, 0, 4));
    return;
  }
  dv.setFloat64(0, v);
  w.u8(0xfb).bytes(new Uint8Array(dv.buffer, 0, 8));
}

const U64_MAX = (1n << 64n) - 1n;

function write(w: ByteWriter, v: CborValue, depth: number): void {
  if (depth > DEFAULT_CBOR_LIMITS.maxDepth) throw Lwm2mErrors.payloadLimit('CBOR value nested too deep to encode');
  if (v === false) w.u8(0xf4);
  else if (v === true) w.u8(0xf5);
  else if (v === null) w.u8(0xf6);
  else if (v === undefined) w.u8(0xf7);
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
      if (v >= 0) head(w, 0, v);
      else head(w, 1, -1 - v);
    } else writeFloat(w, v);
  } else if (typeof v === 'bigint') {
    if (v >= 0n) {
      if (v > U64_MAX) throw Lwm2mErrors.typeMismatch(`integer ${v} beyond 64 bits`);
      head(w, 0, v);
    } else {
      if (-1n - v > U64_MAX) throw Lwm2mErrors.typeMismatch(`integer ${v} beyond 64 bits`);
      head(w, 1, -1n - v);
    }
  } else if (typeof v === 'string') {
    const b = utf8enc.encode(v);
    head(w, 3, b.length);
    w.bytes(b);
  } else if (v instanceof Uint8Array) {
    head(w, 2, v.length);
    w.bytes(v);
  } else if (Array.isArray(v)) {
    head(w, 4, v.length);
    for (const x of v) write(w, x, depth + 1);
  } else if (v instanceof Map) {
    // §4.2.1: keys sorted by the bytewise order of their deterministic encodings.
    const entries = [...v.entries()].map(([k, x]) => {
      const kw = new ByteWriter(16);
      write(kw, k, depth + 1);
      return [kw.finish(), x] as const;
    });
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    head(w, 5, entries.length);
    for (const [k, x] of entries) {
      w.bytes(k);
      write(w, x, depth + 1);
    }
  } else if (v instanceof CborFloat) {
    writeFloat(w, v.value);
  } else if (v instanceof CborTag) {
    head(w, 6, v.tag);
    write(w, v.value, depth + 1);
  } else {
    throw Lwm2mErrors.typeMismatch('value cannot be encoded as CBOR');
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Forces a number to be encoded as a CBOR float (for Float resources holding an integral value). */
export class CborFloat {
  constructor(readonly value: number) {}
}

/** Encodes one value deterministically (RFC 8949 §4.2.1). */
export function encodeCbor(v: CborValue): Uint8Array {
  const w = new ByteWriter(64);
  write(w, v, 0);
  return w.finish();
}
