/**
 * The EMQX register/update message shapes (DESIGN.md §3): the registration's query parameters
 * (never secrets) plus `alternatePath` and `objectList` parsed from the link-format payload.
 */
import type { JsonObject } from './reply';

/** LwM2M Core §6.2.1 query parameters published as numbers. */
const NUMERIC = new Set(['lt']);

export interface RegInfoInput {
  /** Uri-Query values in order: "ep=foo", "lt=300", "Q" (a flag). */
  query: string[];
  /** The link-format payload, if any. */
  links?: string[];
}

/** Splits "k=v" query items into an object; flags (no "=") become `true`. Secrets are dropped. */
export function queryParams(query: string[], sensitive: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const q of query) {
    const i = q.indexOf('=');
    const k = i < 0 ? q : q.slice(0, i);
    if (k === '' || isSensitive(k, sensitive)) continue;
    const v = i < 0 ? true : q.slice(i + 1);
    out[k] = typeof v === 'string' && NUMERIC.has(k) && /^\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

export function isSensitive(key: string, sensitive: readonly string[]): boolean {
  const k = key.toLowerCase();
  return sensitive.some((s) => k === s || k.includes(s));
}

/**
 * LwM2M Core §6.2.1.1: the link with `rt="oma.lwm2m"` names the alternate path; the other
 * links, without attributes and relative to it, are the object list (EMQX's objectList).
 */
export function parseObjectLinks(links: string[]): { alternatePath: string; objectList: string[] } {
  let alternatePath = '/';
  const targets: string[] = [];
  for (const link of links) {
    const parts = link.trim().split(';');
    const target = (parts[0] ?? '').trim().replace(/^</, '').replace(/>$/, '');
    const attrs = parts.slice(1).map((a) => a.trim());
    if (attrs.some((a) => /^rt="?oma\.lwm2m"?$/.test(a))) {
      alternatePath = target === '' ? '/' : target;
      continue;
    }
    if (target !== '') targets.push(target);
  }
  const prefix = alternatePath === '/' ? '' : alternatePath.replace(/\/$/, '');
  const objectList = targets.map((t) => (prefix && t.startsWith(`${prefix}/`) ? t.slice(prefix.length) : t));
  return { alternatePath, objectList };
}

/** The `data` of an EMQX `register`/`update` message. */
export function regInfo(input: RegInfoInput, sensitive: readonly string[]): JsonObject {
  const out = queryParams(input.query, sensitive);
  if (input.links && input.links.length > 0) {
    const { alternatePath, objectList } = parseObjectLinks(input.links);
    out.alternatePath = alternatePath;
    out.objectList = objectList;
  }
  return out;
}
