import type { StoreLimits } from './api';
import { StoreErrors } from './errors';

const NAMESPACE_RE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Namespaces are short lowercase identifiers ("lwm2m.registrations"). */
export function checkNamespace(ns: string): void {
  if (!NAMESPACE_RE.test(ns)) throw StoreErrors.invalidKey(`namespace ${JSON.stringify(ns)} must match ${NAMESPACE_RE}`);
}

export function checkKey(key: string, limits: StoreLimits): void {
  if (typeof key !== 'string' || key.length === 0) throw StoreErrors.invalidKey('key must be a non-empty string');
  if (key.includes('\u0000')) throw StoreErrors.invalidKey('key must not contain NUL');
  const n = Buffer.byteLength(key, 'utf8');
  if (n > limits.maxKeyBytes) throw StoreErrors.invalidKey(`key of ${n} bytes over the limit of ${limits.maxKeyBytes}`);
}

/** JSON-encodes `value`, bounded by `maxValueBytes`. `undefined` is refused (it would read back as absent). */
export function encodeValue(value: unknown, limits: StoreLimits): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch (err) {
    throw StoreErrors.invalidValue(String((err as Error).message), { cause: err });
  }
  if (s === undefined) throw StoreErrors.invalidValue(`cannot store ${typeof value}`);
  const n = Buffer.byteLength(s, 'utf8');
  if (n > limits.maxValueBytes) throw StoreErrors.valueTooLarge(`${n} bytes over the limit of ${limits.maxValueBytes}`);
  return s;
}

export function decodeValue<T>(s: string, where: string): T {
  try {
    return JSON.parse(s) as T;
  } catch (err) {
    throw StoreErrors.corrupt(where, { cause: err });
  }
}

export function clampLimit(limit: number | undefined, limits: StoreLimits): number {
  if (limit === undefined) return limits.listLimit;
  if (!Number.isInteger(limit) || limit < 0) throw StoreErrors.invalidKey(`limit must be a non-negative integer, got ${limit}`);
  return Math.min(limit, limits.listLimit);
}

export function checkMaxLength(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw StoreErrors.invalidKey(`queue maxLength must be a positive integer, got ${n}`);
}

/** Runs async critical sections one at a time per key (queue operations are read-modify-write). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
