/** Decoders for the DER string and time types X.509 uses (RFC 5280 §4.1.2.4, §4.1.2.5). */
import { type DerElement, type DerReader, Tag } from './asn1';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** DirectoryString and friends (X.680 §41) to a JS string. */
export function derString(r: DerReader, el: DerElement): string {
  const v = el.value;
  switch (el.tag) {
    case Tag.utf8String:
      try {
        return utf8.decode(v);
      } catch {
        throw r.error('DER: invalid UTF8String');
      }
    case Tag.printableString:
    case Tag.ia5String:
      for (const b of v) if (b > 0x7f) throw r.error('DER: non-ASCII byte in an ASCII string type');
      return String.fromCharCode(...v);
    case Tag.teletexString:
      // T.61 is treated as Latin-1, as most implementations do.
      return String.fromCharCode(...v);
    case Tag.bmpString: {
      if (v.length % 2 !== 0) throw r.error('DER: odd BMPString length');
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case Tag.universalString: {
      if (v.length % 4 !== 0) throw r.error('DER: bad UniversalString length');
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i]! << 24) >>> 0) + ((v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!);
        if (cp > 0x10ffff) throw r.error('DER: bad UniversalString code point');
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      throw r.error(`DER: tag 0x${el.tag.toString(16)} is not a string type`);
  }
}

function digits(r: DerReader, v: Uint8Array, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const c = v[i]!;
    if (c < 0x30 || c > 0x39) throw r.error('DER: non-digit in time');
    x = x * 10 + (c - 0x30);
  }
  return x;
}

/**
 * UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ` to Unix milliseconds, in the
 * strict forms RFC 5280 §4.1.2.5.1/§4.1.2.5.2 require (seconds present, Zulu, no fractions).
 */
export function derTime(r: DerReader, el: DerElement): number {
  const v = el.value;
  let year: number;
  let at: number;
  if (el.tag === Tag.utcTime) {
    if (v.length !== 13) throw r.error('DER: UTCTime must be YYMMDDHHMMSSZ');
    const yy = digits(r, v, 0, 2);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    at = 2;
  } else if (el.tag === Tag.generalizedTime) {
    if (v.length !== 15) throw r.error('DER: GeneralizedTime must be YYYYMMDDHHMMSSZ');
    year = digits(r, v, 0, 4);
    at = 4;
  } else {
    throw r.error('DER: expected UTCTime or GeneralizedTime');
  }
  if (v[v.length - 1] !== 0x5a) throw r.error('DER: time must end in Z');
  const month = digits(r, v, at, 2);
  const day = digits(r, v, at + 2, 2);
  const hour = digits(r, v, at + 4, 2);
  const minute = digits(r, v, at + 6, 2);
  const second = digits(r, v, at + 8, 2);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    throw r.error('DER: time field out of range');
  }
  // setUTCFullYear, not Date.UTC: the latter maps years 0-99 to 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  // Rejects 31 February and friends, which Date would roll over.
  if (d.getUTCDate() !== day) throw r.error('DER: day out of range for the month');
  return d.getTime();
}
