/** One link of a link-format document: target without brackets and its attributes (flags map to ""). */
export interface LinkEntry {
  target: string;
  attributes: Record<string, string>;
}

/**
 * RFC 6690 §2 link-format, the subset LwM2M uses (LwM2M Core §6.2.1.1): `<target>` followed by
 * `;name` or `;name=value` / `;name="quoted"` parameters, links separated by commas.
 * Throws on anything else; never more than `maxLinks` entries.
 */
export function parseLinks(text: string, maxLinks: number): LinkEntry[] {
  const out: LinkEntry[] = [];
  let i = 0;
  const n = text.length;
  const fail = (why: string): never => {
    throw new Error(`${why} at offset ${i}`);
  };
  if (text.trim() === '') return out;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
    if (text[i] !== '<') fail('expected "<"');
    const end = text.indexOf('>', i + 1);
    if (end < 0) fail('unterminated "<"');
    const target = text.slice(i + 1, end);
    if (/[<>",;\s]/.test(target)) fail('bad character in link target');
    i = end + 1;
    const attributes: Record<string, string> = Object.create(null);
    while (i < n && text[i] === ';') {
      i++;
      const m = /^[A-Za-z0-9!#$&+\-.^_`|~*]+/.exec(text.slice(i, i + 64));
      if (!m) fail('expected a parameter name');
      const name = m![0];
      i += name.length;
      let value = '';
      if (text[i] === '=') {
        i++;
        if (text[i] === '"') {
          const close = text.indexOf('"', i + 1);
          if (close < 0) fail('unterminated quoted value');
          value = text.slice(i + 1, close);
          i = close + 1;
        } else {
          const start = i;
          while (i < n && text[i] !== ',' && text[i] !== ';') i++;
          value = text.slice(start, i);
          if (/[\s"<>]/.test(value)) fail('bad character in parameter value');
        }
      }
      if (!(name in attributes)) attributes[name] = value;
    }
    out.push({ target, attributes });
    if (out.length > maxLinks) fail(`more than ${maxLinks} links`);
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i < n) {
      if (text[i] !== ',') fail('expected ","');
      i++;
      if (i >= n) fail('trailing ","');
    }
  }
  return out;
}
