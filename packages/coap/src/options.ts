/** CoAP option numbers and value encodings (RFC 7252 §5.10, §3.2; RFC 7641; RFC 7959). */
import type { CoapOption } from './api';

export const OptionNumber = {
  IfMatch: 1,
  UriHost: 3,
  ETag: 4,
  IfNoneMatch: 5,
  Observe: 6,
  UriPort: 7,
  LocationPath: 8,
  Oscore: 9,
  UriPath: 11,
  ContentFormat: 12,
  MaxAge: 14,
  UriQuery: 15,
  HopLimit: 16,
  Accept: 17,
  LocationQuery: 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  ProxyUri: 35,
  ProxyScheme: 39,
  Size1: 60,
  NoResponse: 258,
} as const;

/** Critical options this stack processes in requests (RFC 7252 §5.4.1: others get 4.02). */
const RECOGNISED_CRITICAL = new Set<number>([1, 3, 5, 7, 11, 15, 17, 23, 27, 35, 39]);

/** RFC 7252 §5.4.6: odd option numbers are critical. */
export function isCritical(n: number): boolean {
  return (n & 1) === 1;
}

/** The first critical option of a request this stack does not recognise, if any. */
export function firstUnrecognisedCritical(options: CoapOption[]): number | undefined {
  for (const o of options) if (isCritical(o.number) && !RECOGNISED_CRITICAL.has(o.number)) return o.number;
  return undefined;
}

/** RFC 7252 §3.2 uint: big-endian, no leading zero bytes, 0 is the empty string. */
export function encodeUint(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TypeError(`not a uint32: ${v}`);
  // Small values (content formats, Max-Age, Observe 0/1) come from a shared table: treat as read-only.
  if (v < 0x100) return SMALL_UINTS[v]!;
  if (v < 0x10000) return Uint8Array.of(v >>> 8, v & 0xff);
  if (v < 0x1000000) return Uint8Array.of(v >>> 16, (v >>> 8) & 0xff, v & 0xff);
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

const SMALL_UINTS: Uint8Array[] = [new Uint8Array(0)];
for (let i = 1; i < 0x100; i++) SMALL_UINTS.push(Uint8Array.of(i));

/** Decodes a uint option value of at most 4 bytes (longer values are read as their last 4 bytes' worth and clamp). */
export function decodeUint(b: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < b.length; i++) v = v * 256 + b[i]!;
  return v;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** UTF-8 decode, with a fast path for short ASCII (Uri-Path segments, queries). */
export function fromUtf8(b: Uint8Array): string {
  const n = b.length;
  if (n <= 32) {
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = b[i]!;
      if (c >= 0x80) return decoder.decode(b);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(b);
}

export function getOption(options: CoapOption[], n: number): CoapOption | undefined {
  for (const o of options) if (o.number === n) return o;
  return undefined;
}

export function getUintOption(options: CoapOption[], n: number): number | undefined {
  for (const o of options) if (o.number === n) return decodeUint(o.value);
  return undefined;
}

export function getStringOptions(options: CoapOption[], n: number): string[] {
  const out: string[] = [];
  for (const o of options) if (o.number === n) out.push(fromUtf8(o.value));
  return out;
}

export function uintOption(n: number, v: number): CoapOption {
  return { number: n, value: encodeUint(v) };
}

export function stringOption(n: number, s: string): CoapOption {
  return { number: n, value: utf8(s) };
}

/** "/3/0/1", "3/0/1" or ["3","0","1"] -> segments. Empty segments of a string path are dropped. */
export function pathSegments(path: string | string[]): string[] {
  if (Array.isArray(path)) return path;
  return path.split('/').filter((s) => s.length > 0);
}

/** Options without the given numbers (used when repeating a request for the next block). */
export function withoutOptions(options: CoapOption[], numbers: readonly number[]): CoapOption[] {
  return options.filter((o) => !numbers.includes(o.number));
}
