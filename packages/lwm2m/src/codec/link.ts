/**
 * application/link-format (40, RFC 6690 §2): Discover results. Decoding returns one value per
 * link: `path` is the link target when it is an LwM2M path (else the request path) and
 * `value` the whole link string as the client sent it (`</3/0/7>;dim=2`), type corelnk.
 */
import { Lwm2mErrors } from '../node/errors';
import { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import { decodeUtf8 } from './text';
import { ContentFormat, type ContentCodec, type DecodeContext } from './types';

export interface LinkLimits {
  /** Most links in one payload (default 4096). */
  maxLinks?: number;
}

/** Splits a link-format payload at the commas that are outside quoted strings and angle brackets. */
export function splitLinks(s: string, maxLinks = 4096): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let inTarget = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < s.length) {
        cur += ch + s[++i]!;
        continue;
      }
      if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '<') inTarget = true;
    else if (ch === '>') inTarget = false;
    else if (ch === ',' && !inTarget) {
      push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quoted) throw Lwm2mErrors.malformedPayload('link-format: unterminated quoted string');
  push(cur);
  return out;

  function push(link: string): void {
    const t = link.trim();
    if (t === '') return;
    if (!/^<[^>]*>/.test(t)) throw Lwm2mErrors.malformedPayload(`link-format: "${t.slice(0, 40)}" is not a <target> link`);
    if (out.length >= maxLinks) throw Lwm2mErrors.payloadLimit(`link-format: more than ${maxLinks} links`);
    out.push(t);
  }
}

export class LinkFormatCodec implements ContentCodec {
  readonly format: number = ContentFormat.LINK;
  readonly name = 'link-format';
  private readonly maxLinks: number;
  constructor(limits: LinkLimits = {}) {
    this.maxLinks = limits.maxLinks ?? 4096;
  }
  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    return splitLinks(decodeUtf8(payload, this.name), this.maxLinks).map((link) => {
      const target = /^<([^>]*)>/.exec(link)?.[1] ?? '';
      let path = ctx.path.toString();
      try {
        path = Lwm2mPath.parse(target).toString();
      } catch {
        // not an LwM2M path (e.g. "</rd>" or an alternate root): keep the request path
      }
      return { path, value: link, type: 'corelnk' as const };
    });
  }
  encode(values: ResourceValue[]): Uint8Array {
    const links = values.map((v) => {
      if (typeof v.value !== 'string' || !v.value.startsWith('<')) {
        throw Lwm2mErrors.typeMismatch(`${v.path}: link-format values are link strings`);
      }
      return v.value;
    });
    return new TextEncoder().encode(links.join(','));
  }
}
