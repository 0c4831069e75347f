/**
 * CoRE Link Format (RFC 6690 §2) parser and serializer.
 * Strict about structure (every link is `<uri>` followed by `;param` or `;param=value`,
 * links separated by commas, quoted strings terminated), tolerant of what real LwM2M
 * clients send: spaces around separators, unquoted values with dots (`ver=1.1`), quoted
 * values (`rt="oma.lwm2m"`), bare names (`pmin`). Bounded in input length, links and params.
 */
import { CoapErrors } from './errors';

export interface Link {
  uri: string;
  params: Record<string, string | true>;
}

export interface LinkFormatLimits {
  maxLength: number;
  maxLinks: number;
  maxParamsPerLink: number;
}

export const DEFAULT_LINK_LIMITS: LinkFormatLimits = { maxLength: 65_536, maxLinks: 4096, maxParamsPerLink: 32 };

// RFC 5988 parmname = 1*( ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" )
const PARMNAME = /^[A-Za-z0-9!#$&+\-.^_`|~]+\*?$/;
// RFC 6690 ptoken characters.
const PTOKEN = /^[!#$%&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]+$/;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

export function parseLinkFormat(text: string, limits: LinkFormatLimits = DEFAULT_LINK_LIMITS): Link[] {
  if (text.length > limits.maxLength) throw CoapErrors.linkFormat(`longer than ${limits.maxLength} characters`);
  const links: Link[] = [];
  const n = text.length;
  let i = 0;
  const fail = (what: string): never => {
    throw CoapErrors.linkFormat(`${what} at offset ${i}`);
  };
  const skipSpace = () => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  skipSpace();
  if (i === n) return links;
  for (;;) {
    skipSpace();
    if (text[i] !== '<') fail("expected '<'");
    const end = text.indexOf('>', i + 1);
    if (end < 0) fail("unterminated '<'");
    const uri = text.slice(i + 1, end);
    if (/[<\s,"]/.test(uri)) fail('bad character in URI reference');
    i = end + 1;
    const params: Record<string, string | true> = Object.create(null) as Record<string, string | true>;
    let count = 0;
    for (;;) {
      skipSpace();
      if (i >= n || text[i] === ',') break;
      if (text[i] !== ';') fail("expected ';' or ','");
      i++;
      skipSpace();
      const nameStart = i;
      while (i < n && !'=;,'.includes(text[i]!) && !isSpace(text.charCodeAt(i))) i++;
      const name = text.slice(nameStart, i);
      if (!PARMNAME.test(name)) fail(`bad parameter name "${name.slice(0, 20)}"`);
      if (++count > limits.maxParamsPerLink) fail(`more than ${limits.maxParamsPerLink} parameters`);
      skipSpace();
      if (text[i] !== '=') {
        if (!(name in params)) params[name] = true;
        continue;
      }
      i++;
      skipSpace();
      let value: string;
      if (text[i] === '"') {
        i++;
        let v = '';
        for (;;) {
          if (i >= n) fail('unterminated quoted string');
          const c = text[i]!;
          if (c === '\\') {
            if (i + 1 >= n) fail('unterminated quoted string');
            v += text[i + 1];
            i += 2;
          } else if (c === '"') {
            i++;
            break;
          } else {
            v += c;
            i++;
          }
        }
        value = v;
      } else {
        const vs = i;
        while (i < n && text[i] !== ';' && text[i] !== ',') i++;
        value = text.slice(vs, i).trimEnd();
        if (value.length === 0) fail(`empty value of "${name}"`);
        if (value.includes('"')) fail('stray quote');
      }
      // RFC 6690 §2: the first occurrence of a parameter counts.
      if (!(name in params)) params[name] = value;
    }
    links.push({ uri, params: { ...params } });
    if (links.length > limits.maxLinks) throw CoapErrors.linkFormat(`more than ${limits.maxLinks} links`);
    if (i >= n) break;
    i++; // ','
    skipSpace();
    if (i >= n) fail('trailing comma');
  }
  return links;
}

export interface SerializeLinkOptions {
  /** Parameters whose values are always quoted (RFC 6690 §3: rt, if, title, anchor are quoted-strings). */
  quoted?: readonly string[];
}

const DEFAULT_QUOTED = ['rt', 'if', 'title', 'anchor', 'rel', 'rev'];

function quote(v: string): string {
  return `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export function serializeLinkFormat(links: readonly Link[], opts: SerializeLinkOptions = {}): string {
  const quoted = opts.quoted ?? DEFAULT_QUOTED;
  return links
    .map((l) => {
      if (/[<>]/.test(l.uri)) throw CoapErrors.linkFormat('URI reference with < or >');
      let s = `<${l.uri}>`;
      for (const [k, v] of Object.entries(l.params)) {
        if (!PARMNAME.test(k)) throw CoapErrors.linkFormat(`bad parameter name ${k}`);
        if (v === true) s += `;${k}`;
        else s += `;${k}=${quoted.includes(k) || !PTOKEN.test(v) ? quote(v) : v}`;
      }
      return s;
    })
    .join(',');
}
