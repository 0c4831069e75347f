/** Shared plumbing of the ECDHE_ECDSA message codecs: whole-body parsing with typed errors. */
import { ByteReader, CoreErrors, isM2MError } from '@m2mhub/core';
import { PkiErrors } from '../errors';

/**
 * Runs `read` over the whole of `body` and requires it to consume every byte. Reader under-runs
 * and vector limits become decode_error (RFC 5246 §7.2.2); typed PKI errors pass through.
 */
export function parseWhole<T>(body: Uint8Array, what: string, read: (r: ByteReader) => T): T {
  const r = new ByteReader(body);
  let out: T;
  try {
    out = read(r);
  } catch (err) {
    if (isM2MError(err) && (CoreErrors.bufferUnderflow.is(err) || CoreErrors.limitExceeded.is(err))) {
      throw PkiErrors.decode(`${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
  if (r.remaining !== 0) throw PkiErrors.decode(`${what}: ${r.remaining} trailing bytes`);
  return out;
}

/** Reads a vector of fixed-size items and checks its length is a multiple of the item size. */
export function readList<T>(r: ByteReader, lenBytes: 1 | 2, itemBytes: 1 | 2, what: string, item: (x: ByteReader) => T): T[] {
  const raw = r.vector(lenBytes);
  if (raw.length % itemBytes !== 0) throw PkiErrors.decode(`${what}: odd list length ${raw.length}`);
  const inner = new ByteReader(raw);
  const out: T[] = [];
  while (inner.remaining > 0) out.push(item(inner));
  return out;
}
