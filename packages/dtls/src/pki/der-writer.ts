/** Minimal DER encoders (X.690 §8, §10) for what we write: SPKI, ECDSA signatures, private keys. */
import { concatBytes } from '@m2mhub/core';
import { Tag } from './asn1';

function lengthOctets(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Uint8Array.from([0x80 | out.length, ...out]);
}

export function derTlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = concatBytes(...contents);
  return concatBytes(Uint8Array.of(tag), lengthOctets(body.length), body);
}

export function derSequence(...items: Uint8Array[]): Uint8Array {
  return derTlv(Tag.sequence, ...items);
}

/** INTEGER from unsigned big-endian magnitude bytes (minimal, with a 0x00 when the top bit is set). */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  const body = m.length === 0 ? Uint8Array.of(0) : m[0]! >= 0x80 ? concatBytes(Uint8Array.of(0), m) : m;
  return derTlv(Tag.integer, body);
}

export function derSmallInteger(n: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return derUnsignedInteger(Uint8Array.from(bytes));
}

export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return derTlv(Tag.oid, Uint8Array.from(out));
}

export function derBitString(bytes: Uint8Array): Uint8Array {
  return derTlv(Tag.bitString, Uint8Array.of(0), bytes);
}

export function derOctetString(bytes: Uint8Array): Uint8Array {
  return derTlv(Tag.octetString, bytes);
}
