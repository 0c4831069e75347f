/** X.501 Name (RFC 5280 §4.1.2.4): attributes, common name, printable form. */
import { type DerElement, type DerReader, Tag } from './asn1';
import { derString } from './der-values';
import { AttributeShortName, Oid } from './oids';
import { toHex } from '@m2mhub/core';

export interface NameAttribute {
  /** Attribute type OID, e.g. "2.5.4.3" for CN. */
  type: string;
  value: string;
}

export interface DistinguishedName {
  /** The Name DER as encoded in the certificate (issuer/subject chaining compares these). */
  der: Uint8Array;
  /** Attributes in encoding order (most significant RDN first). */
  attributes: NameAttribute[];
  /** The last (most specific) commonName, if any (RFC 6125 §6.4.4 picks the most specific). */
  commonName?: string;
}

export function parseName(r: DerReader, el: DerElement, maxAttributes: number): DistinguishedName {
  const seq = r.enter(el);
  const attributes: NameAttribute[] = [];
  while (!seq.done) {
    const rdn = seq.enter(seq.expect(Tag.set, 'RelativeDistinguishedName'));
    if (rdn.done) throw r.error('empty RelativeDistinguishedName');
    while (!rdn.done) {
      if (attributes.length >= maxAttributes) throw r.error(`name has more than ${maxAttributes} attributes`);
      const atv = rdn.sequence('AttributeTypeAndValue');
      const type = atv.oid(atv.expect(Tag.oid, 'attribute type'));
      const v = atv.next();
      atv.end('AttributeTypeAndValue');
      // RFC 4514 §2.4: a value of a non-string type is shown as '#' + hex of its DER.
      let value: string;
      try {
        value = derString(atv, v);
      } catch (err) {
        if (type === Oid.commonName) throw err;
        value = `#${toHex(v.raw)}`;
      }
      attributes.push({ type, value });
    }
  }
  const name: DistinguishedName = { der: el.raw, attributes };
  for (const a of attributes) if (a.type === Oid.commonName) name.commonName = a.value;
  return name;
}

/** RFC 4514-style string, least significant RDN first: "CN=leaf,O=Acme". */
export function formatName(name: DistinguishedName): string {
  return name.attributes
    .map((a) => `${AttributeShortName[a.type] ?? a.type}=${a.value.replace(/([,+"\\<>;=])/g, '\\$1')}`)
    .reverse()
    .join(',');
}
