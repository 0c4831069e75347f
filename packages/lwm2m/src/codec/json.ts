/**
 * A small bounded JSON parser (RFC 8259) for the JSON content formats. Unlike JSON.parse it
 * keeps integers beyond 2^53-1 exact as `bigint` (LwM2M Integer/Unsigned Integer are 64-bit)
 * and bounds nesting depth. Errors are M2M_LWM2M_MALFORMED_PAYLOAD / M2M_LWM2M_PAYLOAD_LIMIT.
 */
import { Lwm2mErrors } from '../node/errors';

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [k: string]: JsonValue };

export interface JsonLimits {
  /** Deepest nesting of arrays and objects (default 32). */
  maxDepth?: number;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const STRING_CHUNK = /[^"\\\u0000-\u001f]*/y;

export function parseJsonExact(text: string, what: string, limits: JsonLimits = {}): JsonValue {
  const maxDepth = limits.maxDepth ?? 32;
  let pos = 0;
  const bad = (d: string) => Lwm2mErrors.malformedPayload(`${what}: ${d} at offset ${pos}`);
  const ws = () => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      pos++;
    }
  };
  const str = (): string => {
    pos++; // opening quote
    let out = '';
    for (;;) {
      STRING_CHUNK.lastIndex = pos;
      const m = STRING_CHUNK.exec(text);
      out += m?.[0] ?? '';
      pos += m?.[0].length ?? 0;
      const c = text[pos];
      if (c === '"') {
        pos++;
        return out;
      }
      if (c !== '\\') throw bad(c === undefined ? 'unterminated string' : 'control character in string');
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const h = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) throw bad('bad \\u escape');
          out += String.fromCharCode(Number.parseInt(h, 16));
          pos += 4;
          break;
        }
        default:
          throw bad('bad escape');
      }
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > maxDepth) throw Lwm2mErrors.payloadLimit(`${what}: nested over ${maxDepth} levels`);
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: { [k: string]: JsonValue } = {};
      ws();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') throw bad('expected a member name');
        const k = str();
        ws();
        if (text[pos] !== ':') throw bad('expected ":"');
        pos++;
        const v = value(depth + 1);
        if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true });
        else obj[k] = v;
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        throw bad('expected "," or "}"');
      }
    }
    if (c === '[') {
      pos++;
      const arr: JsonValue[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        throw bad('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m || m[0].length === 0) throw bad('unexpected character');
    pos += m[0].length;
    const lit = m[0];
    const n = Number(lit);
    if (!Number.isSafeInteger(n) && /^-?[0-9]+$/.test(lit) && lit.length <= 21) return BigInt(lit);
    return n;
  };
  const v = value(0);
  ws();
  if (pos !== text.length) throw bad('trailing characters');
  return v;
}
