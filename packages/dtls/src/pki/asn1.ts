/**
 * A bounded DER reader (ITU-T X.690 §8, §10). Values are subarrays of the input, so reading
 * allocates nothing proportional to the input; nesting depth is capped; indefinite lengths,
 * non-minimal lengths and high tag numbers are rejected (DER §10.1).
 */
import type { ErrorFactory } from '@m2mhub/core';
import { PkiErrors } from './errors';
import { DEFAULT_PKI_LIMITS } from './limits';

/** Universal tags used by X.509 (X.680 §8.4) and the context-specific ones we read. */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** `[n]` context-specific tag, constructed (EXPLICIT) or primitive (IMPLICIT primitive). */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

export interface DerElement {
  tag: number;
  /** Contents octets. */
  value: Uint8Array;
  /** Identifier + length + contents, as on the wire (e.g. the TBSCertificate to verify). */
  raw: Uint8Array;
}

export class DerReader {
  private pos = 0;
  private constructor(
    private readonly buf: Uint8Array,
    private readonly depth: number,
    private readonly maxDepth: number,
    private readonly fail: ErrorFactory,
  ) {}

  /** A reader over `buf`; errors are raised with `fail` (bad_certificate by default). */
  static of(buf: Uint8Array, opts: { maxDepth?: number; fail?: ErrorFactory } = {}): DerReader {
    return new DerReader(buf, 0, opts.maxDepth ?? DEFAULT_PKI_LIMITS.maxDerDepth, opts.fail ?? PkiErrors.badCertificate);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  error(detail: string): Error {
    return this.fail(detail);
  }

  peekTag(): number | undefined {
    return this.done ? undefined : this.buf[this.pos];
  }

  /** Reads one TLV (X.690 §8.1). */
  next(): DerElement {
    const b = this.buf;
    const start = this.pos;
    if (start >= b.length) throw this.fail('DER: unexpected end of data');
    const tag = b[start]!;
    if ((tag & 0x1f) === 0x1f) throw this.fail('DER: high tag numbers are not used in X.509');
    if (start + 1 >= b.length) throw this.fail('DER: missing length');
    const first = b[start + 1]!;
    let len: number;
    let hdr = 2;
    if (first < 0x80) {
      len = first;
    } else {
      const n = first & 0x7f;
      // X.690 §10.1: definite form only; lengths beyond 4 octets cannot fit any input we accept.
      if (n === 0) throw this.fail('DER: indefinite length');
      if (n > 4) throw this.fail('DER: length too large');
      if (start + 2 + n > b.length) throw this.fail('DER: truncated length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[start + 2 + i]!;
      // X.690 §10.1: the minimum number of octets.
      if (len < 0x80 || b[start + 2]! === 0) throw this.fail('DER: non-minimal length');
      hdr = 2 + n;
    }
    const end = start + hdr + len;
    if (end > b.length) throw this.fail(`DER: element of ${len} bytes overruns its container`);
    this.pos = end;
    return { tag, value: b.subarray(start + hdr, end), raw: b.subarray(start, end) };
  }

  expect(tag: number, what: string): DerElement {
    const t = this.peekTag();
    if (t !== tag) throw this.fail(`DER: expected ${what} (tag 0x${tag.toString(16)}), got ${t === undefined ? 'end' : `0x${t.toString(16)}`}`);
    return this.next();
  }

  optional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }

  /** A reader over a constructed element's contents, one level deeper. */
  enter(el: DerElement): DerReader {
    if ((el.tag & 0x20) === 0) throw this.fail('DER: primitive element where constructed expected');
    if (this.depth + 1 > this.maxDepth) throw this.fail(`DER: nesting deeper than ${this.maxDepth}`);
    return new DerReader(el.value, this.depth + 1, this.maxDepth, this.fail);
  }

  sequence(what: string): DerReader {
    return this.enter(this.expect(Tag.sequence, what));
  }

  /** Asserts nothing follows (DER has no trailing data inside a structure). */
  end(what: string): void {
    if (!this.done) throw this.fail(`DER: trailing data after ${what}`);
  }

  // --- primitive decoders (X.690 §8.2-§8.19) ---

  boolean(el: DerElement): boolean {
    // X.690 §11.1: DER TRUE is 0xFF.
    if (el.value.length !== 1 || (el.value[0] !== 0 && el.value[0] !== 0xff)) throw this.fail('DER: bad BOOLEAN');
    return el.value[0] === 0xff;
  }

  /** INTEGER contents checked for minimal encoding (X.690 §8.3.2); returns the two's-complement bytes. */
  integerBytes(el: DerElement): Uint8Array {
    const v = el.value;
    if (v.length === 0) throw this.fail('DER: empty INTEGER');
    if (v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80))) {
      throw this.fail('DER: non-minimal INTEGER');
    }
    return v;
  }

  /** A non-negative INTEGER as unsigned magnitude bytes (leading zero dropped). */
  unsignedInteger(el: DerElement): Uint8Array {
    const v = this.integerBytes(el);
    if (v[0]! >= 0x80) throw this.fail('DER: negative INTEGER');
    return v.length > 1 && v[0] === 0 ? v.subarray(1) : v;
  }

  /** A small non-negative INTEGER (versions, path lengths). */
  smallInteger(el: DerElement, max = 0x7fff_ffff): number {
    const v = this.unsignedInteger(el);
    if (v.length > 4) throw this.fail('DER: INTEGER too large');
    let n = 0;
    for (const x of v) n = n * 256 + x;
    if (n > max) throw this.fail(`DER: INTEGER ${n} over ${max}`);
    return n;
  }

  /** BIT STRING (X.690 §8.6): the bytes and the number of unused bits in the last one. */
  bitString(el: DerElement): { bytes: Uint8Array; unusedBits: number } {
    const v = el.value;
    if (v.length === 0) throw this.fail('DER: empty BIT STRING');
    const unusedBits = v[0]!;
    if (unusedBits > 7 || (v.length === 1 && unusedBits !== 0)) throw this.fail('DER: bad BIT STRING padding');
    return { bytes: v.subarray(1), unusedBits };
  }

  /** OBJECT IDENTIFIER as dotted decimal (X.690 §8.19), at most 64 content bytes. */
  oid(el: DerElement): string {
    const v = el.value;
    if (el.tag !== Tag.oid) throw this.fail('DER: expected OBJECT IDENTIFIER');
    if (v.length === 0 || v.length > 64) throw this.fail('DER: bad OBJECT IDENTIFIER length');
    const arcs: number[] = [];
    let acc = 0;
    let started = false;
    for (let i = 0; i < v.length; i++) {
      const byte = v[i]!;
      if (!started && byte === 0x80) throw this.fail('DER: non-minimal OID arc');
      started = true;
      acc = acc * 128 + (byte & 0x7f);
      if (acc > Number.MAX_SAFE_INTEGER / 128) throw this.fail('DER: OID arc too large');
      if ((byte & 0x80) === 0) {
        if (arcs.length === 0) {
          const first = acc < 40 ? 0 : acc < 80 ? 1 : 2;
          arcs.push(first, acc - first * 40);
        } else arcs.push(acc);
        acc = 0;
        started = false;
      }
    }
    if (started) throw this.fail('DER: truncated OID');
    return arcs.join('.');
  }
}
