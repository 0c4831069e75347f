/** Block1/Block2 option values (RFC 7959 §2.2). */
import { decodeUint, encodeUint } from './options';

export interface BlockValue {
  num: number;
  more: boolean;
  /** SZX 0..6: size = 2 ** (szx + 4). */
  szx: number;
}

export function blockSize(szx: number): number {
  return 1 << (szx + 4);
}

/** The SZX for a block size (16..1024, rounded down to a power of two). */
export function szxOf(size: number): number {
  let szx = 0;
  while (szx < 6 && blockSize(szx + 1) <= size) szx++;
  return szx;
}

/** Decodes a Block option; undefined for a malformed value (over 3 bytes, or SZX 7 which is reserved outside BERT). */
export function decodeBlock(v: Uint8Array): BlockValue | undefined {
  if (v.length > 3) return undefined;
  const n = decodeUint(v);
  const szx = n & 7;
  if (szx === 7) return undefined;
  return { num: n >>> 4, more: (n & 8) !== 0, szx };
}

export function encodeBlock(b: BlockValue): Uint8Array {
  if (b.num < 0 || b.num > 0xfffff) throw new RangeError(`block number ${b.num}`);
  return encodeUint(b.num * 16 + (b.more ? 8 : 0) + b.szx);
}
