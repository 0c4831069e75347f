/**
 * Downlink commands (DESIGN.md §3): `{"reqID": any, "msgType": T, "data": {...}}` parsed into
 * typed operations. Pure: validation only, no I/O. An invalid command yields a `CommandError`
 * the gateway turns into a `4.00 bad_request` reply with an `error` text.
 */
import type { Json, JsonObject } from './reply';

export const MSG_TYPES = [
  'read',
  'discover',
  'write',
  'write-attr',
  'execute',
  'create',
  'delete',
  'observe',
  'cancel-observe',
  'read-composite',
  'write-composite',
  'observe-composite',
  'cancel-observe-composite',
] as const;
export type MsgType = (typeof MSG_TYPES)[number];

/** One value to write, as given by the user; typed against the model later. */
export interface WriteItem {
  path: string;
  type?: string;
  value: Json;
}

export type Lwm2mCommand =
  | { msgType: 'read' | 'discover' | 'delete' | 'observe' | 'cancel-observe'; path: string; format?: number }
  | { msgType: 'write'; path: string; items: WriteItem[]; batch: boolean; format?: number }
  | { msgType: 'write-attr'; path: string; attrs: Array<[string, string]> }
  | { msgType: 'execute'; path: string; args: string }
  | { msgType: 'create'; path: string; items: WriteItem[]; format?: number }
  | { msgType: 'read-composite' | 'observe-composite' | 'cancel-observe-composite'; path: string; paths: string[]; format?: number }
  | { msgType: 'write-composite'; path: string; items: WriteItem[]; format?: number };

export interface ParsedCommand {
  raw: JsonObject;
  cmd: Lwm2mCommand;
}

export class CommandError extends Error {
  constructor(
    message: string,
    /** What was understood of the command, for echoing fields back. */
    readonly raw: JsonObject | undefined,
    readonly msgType: string,
    readonly reqPath: string,
  ) {
    super(message);
  }
}

/** LwM2M Core §7.3 Write-Attributes parameters (1.0 and 1.1/1.2 names). */
export const ATTR_KEYS = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax', 'edge', 'con', 'hqmax'] as const;

/** Content format names a user may ask for in `data.format` (numbers are accepted too). */
export const FORMAT_NAMES: Record<string, number> = {
  text: 0,
  'text/plain': 0,
  link: 40,
  opaque: 42,
  cbor: 60,
  'senml-json': 110,
  'senml+json': 110,
  'senml-cbor': 112,
  'senml+cbor': 112,
  tlv: 11542,
  'lwm2m-json': 11543,
  'lwm2m+json': 11543,
  'lwm2m-cbor': 11544,
  'lwm2m+cbor': 11544,
};

const PATH_RE = /^\/(\d{1,5}(\/\d{1,5}(\/\d{1,5}(\/\d{1,5})?)?)?)?$/;

function checkPath(p: unknown, what: string, fail: (m: string) => never): string {
  if (typeof p !== 'string') fail(`${what} must be a string like "/3/0/1"`);
  const path = p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
  if (!PATH_RE.test(path)) fail(`${what} "${p}" is not an LwM2M path (/O/I/R/RI)`);
  for (const seg of path.split('/').slice(1)) if (Number(seg) > 65535) fail(`${what} "${p}": id over 65535`);
  return path;
}

function isRecord(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Joins a path relative to `base` ("/1" under "/3/0" -> "/3/0/1"); absolute paths under base stay. */
export function joinPath(base: string, rel: string): string {
  if (base === '/' || rel.startsWith(`${base}/`) || rel === base) return rel;
  return (base + rel).replace(/\/+/g, '/');
}

/**
 * Parses one command payload. `maxItems` bounds batch/composite sizes, `maxSize` the JSON text.
 */
/** One decoder for every command (constructing one per command showed in profiles); `fatal`: bad UTF-8 is refused. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function parseCommand(payload: Uint8Array, limits: { maxSize: number; maxItems?: number }): ParsedCommand {
  const maxItems = limits.maxItems ?? 1000;
  let raw: JsonObject | undefined;
  let msgType = 'unknown';
  let reqPath = '';
  const fail = (m: string): never => {
    throw new CommandError(m, raw, msgType, reqPath);
  };
  if (payload.length > limits.maxSize) fail(`command of ${payload.length} bytes over the limit of ${limits.maxSize}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(payload));
  } catch (e) {
    fail(`invalid JSON: ${(e as Error).message}`);
  }
  if (!isRecord(parsed)) fail('a command is a JSON object {"msgType": ..., "data": {...}}');
  raw = parsed as JsonObject;
  const mt = raw.msgType;
  if (typeof mt === 'string') msgType = mt;
  const data = raw.data;
  if (isRecord(data)) {
    const p = data.path ?? data.basePath;
    if (typeof p === 'string') reqPath = p.split('?')[0]!;
  }
  if (typeof mt !== 'string' || !(MSG_TYPES as readonly string[]).includes(mt)) {
    fail(`unknown msgType ${JSON.stringify(mt ?? null)}; expected one of ${MSG_TYPES.join(', ')}`);
  }
  if (!isRecord(data)) fail('"data" must be an object');
  const d = data as JsonObject;
  const format = parseFormat(d.format ?? d.accept ?? d.contentFormat, fail);
  const withFormat = <T extends object>(o: T): T & { format?: number } => (format === undefined ? o : { ...o, format });
  const items = (arr: unknown, base: string): WriteItem[] => {
    if (!Array.isArray(arr) || arr.length === 0) fail('"content" must be a non-empty array of {path, type, value}');
    const list = arr as unknown[];
    if (list.length > maxItems) fail(`"content" has ${list.length} items, over the limit of ${maxItems}`);
    return list.map((it, i) => {
      if (!isRecord(it)) fail(`content[${i}] must be an object {path, type, value}`);
      const o = it as JsonObject;
      const path = joinPath(base, checkPath(o.path, `content[${i}].path`, fail));
      checkPath(path, `content[${i}].path`, fail);
      if (o.value === undefined) fail(`content[${i}].value is missing`);
      if (o.type !== undefined && typeof o.type !== 'string') fail(`content[${i}].type must be a string`);
      const w: WriteItem = { path, value: o.value! };
      if (typeof o.type === 'string') w.type = o.type;
      return w;
    });
  };
  const pathList = (arr: unknown): string[] => {
    if (!Array.isArray(arr) || arr.length === 0) fail('"paths" must be a non-empty array of paths');
    const list = arr as unknown[];
    if (list.length > maxItems) fail(`"paths" has ${list.length} items, over the limit of ${maxItems}`);
    return list.map((p, i) => checkPath(isRecord(p) ? p.path : p, `paths[${i}]`, fail));
  };
  switch (mt as MsgType) {
    case 'read':
    case 'discover':
    case 'delete':
    case 'observe':
    case 'cancel-observe': {
      const path = checkPath(stripQuery(d.path), '"path"', fail);
      if (mt === 'delete' && (path === '/' || path.split('/').length !== 3)) {
        // LwM2M Core §6.3.8: Delete targets an object instance (or "/" in bootstrap only).
        fail(`delete needs an object instance path like "/3303/0", got "${path}"`);
      }
      return { raw, cmd: withFormat({ msgType: mt as 'read', path }) };
    }
    case 'write': {
      if (d.basePath !== undefined && d.basePath !== '/') {
        const base = checkPath(d.basePath, '"basePath"', fail);
        if (base.split('/').length < 3) fail('batch write "basePath" must be an object instance or a resource');
        return { raw, cmd: withFormat({ msgType: 'write', path: base, items: items(d.content, base), batch: true }) };
      }
      const path = checkPath(stripQuery(d.path), '"path"', fail);
      if (path.split('/').length < 4) fail(`single write needs a resource path like "/3/0/14", got "${path}"`);
      if (d.value === undefined) fail('"value" is missing');
      if (d.type !== undefined && typeof d.type !== 'string') fail('"type" must be a string');
      const item: WriteItem = { path, value: d.value! };
      if (typeof d.type === 'string') item.type = d.type;
      return { raw, cmd: withFormat({ msgType: 'write', path, items: [item], batch: false }) };
    }
    case 'write-attr': {
      const path = checkPath(stripQuery(d.path), '"path"', fail);
      const attrs: Array<[string, string]> = [];
      for (const k of ATTR_KEYS) {
        const v = d[k];
        if (v === undefined || v === null) continue;
        if (typeof v === 'number' && Number.isFinite(v)) attrs.push([k, String(v)]);
        else if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) attrs.push([k, v]);
        else if (typeof v === 'string' && v === '') attrs.push([k, '']);
        else fail(`attribute ${k}=${JSON.stringify(v)} must be a number`);
      }
      for (const k of Object.keys(d)) {
        if (k !== 'path' && k !== 'format' && !(ATTR_KEYS as readonly string[]).includes(k)) {
          fail(`unknown attribute "${k}"; allowed: ${ATTR_KEYS.join(', ')}`);
        }
      }
      if (attrs.length === 0) fail(`write-attr needs at least one of ${ATTR_KEYS.join(', ')}`);
      return { raw, cmd: { msgType: 'write-attr', path, attrs } };
    }
    case 'execute': {
      const path = checkPath(stripQuery(d.path), '"path"', fail);
      if (path.split('/').length !== 4) fail(`execute needs a resource path like "/3/0/4", got "${path}"`);
      const a = d.args;
      const args = a === undefined || a === null || a === 'undefined' ? '' : typeof a === 'string' ? a : fail('"args" must be a string');
      return { raw, cmd: { msgType: 'execute', path, args } };
    }
    case 'create': {
      const base = checkPath(d.basePath ?? d.path, '"basePath"', fail);
      if (base.split('/').length !== 2) fail(`create needs an object path like "/3303", got "${base}"`);
      return { raw, cmd: withFormat({ msgType: 'create', path: base, items: items(d.content, base) }) };
    }
    case 'read-composite':
    case 'observe-composite':
    case 'cancel-observe-composite': {
      const paths = pathList(d.paths);
      reqPath = paths.join(',');
      return { raw, cmd: withFormat({ msgType: mt as 'read-composite', path: reqPath, paths }) };
    }
    case 'write-composite': {
      const list = items(d.content, '/');
      reqPath = list.map((i) => i.path).join(',');
      return { raw, cmd: withFormat({ msgType: 'write-composite', path: reqPath, items: list }) };
    }
  }
  return fail('unreachable');
}

function stripQuery(p: unknown): unknown {
  return typeof p === 'string' ? p.split('?')[0] : p;
}

function parseFormat(v: unknown, fail: (m: string) => never): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return v;
  if (typeof v === 'string') {
    const n = FORMAT_NAMES[v.toLowerCase()];
    if (n !== undefined) return n;
    if (/^\d+$/.test(v) && Number(v) <= 65535) return Number(v);
  }
  return fail(`unknown content format ${JSON.stringify(v)}; use a number or one of ${Object.keys(FORMAT_NAMES).join(', ')}`);
}
