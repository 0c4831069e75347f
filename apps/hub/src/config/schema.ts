/**
 * The config schema toolkit: each key is a `Field` with its type, default, allowed values
 * and a parser that accepts a file value (JSON) or a string (environment variable, flag).
 * Sections are plain objects of fields and sub-sections, one module per section, composed
 * in `index.ts`; another package's section is added there the same way.
 */
import { isAbsolute } from 'node:path';

export interface Field<T> {
  readonly kind: 'field';
  readonly default: T;
  readonly description: string;
  /** Human-readable allowed values, used in the one-line error. */
  readonly allowed: string;
  /** Never printed back (passwords, URLs with credentials). */
  readonly secret?: boolean;
  /** Returns the value or throws an Error whose message says what is allowed. */
  parse(raw: unknown): T;
}

export interface Section {
  readonly [key: string]: Field<unknown> | Section;
}

export type ConfigOf<S extends Section> = {
  -readonly [K in keyof S]: S[K] extends Field<infer T> ? T : S[K] extends Section ? ConfigOf<S[K]> : never;
};

export function isField(x: unknown): x is Field<unknown> {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'field';
}

function field<T>(def: Omit<Field<T>, 'kind'>): Field<T> {
  return { kind: 'field', ...def };
}

function fail(allowed: string): never {
  throw new Error(allowed);
}

function asInt(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  if (typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

export function int(def: number, min: number, max: number, description: string): Field<number> {
  const allowed = `an integer from ${min} to ${max}`;
  return field({
    default: def,
    description,
    allowed,
    parse(raw) {
      const n = asInt(raw);
      if (n === undefined || n < min || n > max) fail(allowed);
      return n;
    },
  });
}

/** A TCP/UDP port; 0 asks the OS for a free one (tests). */
export function port(def: number, description: string): Field<number> {
  return int(def, 0, 65535, description);
}

export function bool(def: boolean, description: string): Field<boolean> {
  const allowed = 'true or false';
  return field({
    default: def,
    description,
    allowed,
    parse(raw) {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string') {
        const s = raw.trim().toLowerCase();
        if (s === 'true' || s === '1' || s === 'yes' || s === 'on') return true;
        if (s === 'false' || s === '0' || s === 'no' || s === 'off') return false;
      }
      return fail(allowed);
    },
  });
}

export function oneOf<const V extends string>(values: readonly V[], def: V, description: string): Field<V> {
  const allowed = `one of ${values.join(', ')}`;
  return field({
    default: def,
    description,
    allowed,
    parse(raw) {
      if (typeof raw === 'string' && (values as readonly string[]).includes(raw.trim())) return raw.trim() as V;
      return fail(allowed);
    },
  });
}

export function str(def: string, description: string, opts: { pattern?: RegExp; allowed?: string; maxLength?: number } = {}): Field<string> {
  const maxLength = opts.maxLength ?? 4096;
  const allowed = opts.allowed ?? `a string of at most ${maxLength} characters`;
  return field({
    default: def,
    description,
    allowed,
    parse(raw) {
      if (typeof raw !== 'string' || raw.length > maxLength || (opts.pattern && !opts.pattern.test(raw))) fail(allowed);
      return raw;
    },
  });
}

/** An optional string (absent by default); "" also means absent. */
export function optional(description: string, opts: { allowed?: string; check?: (s: string) => boolean; secret?: boolean } = {}): Field<string | undefined> {
  const allowed = opts.allowed ?? 'a string';
  return field({
    default: undefined,
    description,
    allowed,
    ...(opts.secret ? { secret: true } : {}),
    parse(raw) {
      if (raw === undefined || raw === null || raw === '') return undefined;
      if (typeof raw !== 'string' || raw.length > 4096 || (opts.check && !opts.check(raw))) fail(allowed);
      return raw;
    },
  });
}

export function host(def: string, description: string): Field<string> {
  return str(def, description, {
    pattern: /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:]+|[A-Za-z0-9.-]+)$/,
    allowed: 'an IP address or host name (0.0.0.0 for all interfaces)',
    maxLength: 253,
  });
}

export function urlPath(def: string, description: string): Field<string> {
  return str(def, description, { pattern: /^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/, allowed: 'a URL path starting with /', maxLength: 256 });
}

export function filePath(description: string): Field<string | undefined> {
  return optional(description, { allowed: 'a file path', check: (s) => !s.includes('\u0000') });
}

export function dirPath(def: string, description: string): Field<string> {
  return str(def, description, { pattern: /^[^\u0000]+$/, allowed: 'a directory path' });
}

/** A JSON value (file: as is; env/flag: JSON text) checked by `check`, which throws with what is allowed. */
export function json<T>(def: T, description: string, allowed: string, check: (v: unknown) => T): Field<T> {
  return field({
    default: def,
    description,
    allowed,
    parse(raw) {
      let v = raw;
      if (typeof raw === 'string') {
        try {
          v = JSON.parse(raw);
        } catch {
          fail(`${allowed} (as JSON)`);
        }
      }
      return check(v);
    },
  });
}

export function isAbsolutePath(p: string): boolean {
  return isAbsolute(p);
}

/** Every field of a section with its dotted key, depth first in declaration order. */
export function walkFields(section: Section, prefix = ''): Array<[string, Field<unknown>]> {
  const out: Array<[string, Field<unknown>]> = [];
  for (const [k, v] of Object.entries(section)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isField(v)) out.push([key, v]);
    else out.push(...walkFields(v, key));
  }
  return out;
}
