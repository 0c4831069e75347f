/**
 * X.509 v3 certificate parser (RFC 5280 §4.1). Pure and bounded: input size, nesting depth,
 * name attributes and extensions are all capped by `PkiLimits`; every error is typed
 * (`M2M_DTLS_PKI_BAD_CERTIFICATE`, alert bad_certificate). Algorithms we do not implement (RSA)
 * still parse; chain validation reports them as unsupported_certificate.
 */
import { type DerElement, DerReader, Tag, contextTag } from './asn1';
import { derTime } from './der-values';
import { PkiErrors } from './errors';
import { type PkiLimits, pkiLimits } from './limits';
import { type DistinguishedName, parseName } from './name';
import { Oid } from './oids';
import { type PublicKeyInfo, parseSpkiElement } from './spki';
import { toHex } from '@m2mhub/core';

export type SignatureHash = 'sha256' | 'sha384' | 'sha512';

export interface SignatureAlgorithm {
  oid: string;
  /** Set for ecdsa-with-SHA256/384/512 (RFC 5758 §3.2); absent for algorithms we do not verify. */
  hash?: SignatureHash;
}

export const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGE_NAMES)[number];

export interface Extension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

export interface Certificate {
  der: Uint8Array;
  /** TBSCertificate DER: what the issuer signed. */
  tbs: Uint8Array;
  /** 1, 2 or 3. */
  version: number;
  /** Serial number, hex of its DER INTEGER contents. */
  serialNumber: string;
  signatureAlgorithm: SignatureAlgorithm;
  /** signatureValue BIT STRING contents (a DER ECDSA-Sig-Value for ECDSA). */
  signature: Uint8Array;
  issuer: DistinguishedName;
  subject: DistinguishedName;
  /** Validity bounds in Unix milliseconds, inclusive (RFC 5280 §4.1.2.5). */
  notBefore: number;
  notAfter: number;
  publicKey: PublicKeyInfo;
  /** RFC 5280 §4.2.1.9; absent when the extension is absent. */
  basicConstraints?: { ca: boolean; pathLength?: number };
  /** RFC 5280 §4.2.1.3; absent when the extension is absent (then any usage is allowed). */
  keyUsage?: KeyUsage[];
  /** RFC 5280 §4.2.1.12 key purpose OIDs; absent when the extension is absent (any purpose). */
  extendedKeyUsage?: string[];
  extensions: Extension[];
}

const hashBySigOid: Readonly<Record<string, SignatureHash>> = {
  [Oid.ecdsaWithSha256]: 'sha256',
  [Oid.ecdsaWithSha384]: 'sha384',
  [Oid.ecdsaWithSha512]: 'sha512',
};

function parseAlgorithmIdentifier(r: DerReader, el: DerElement): SignatureAlgorithm {
  const a = r.enter(el);
  const oid = a.oid(a.expect(Tag.oid, 'algorithm'));
  const hash = hashBySigOid[oid];
  if (hash) {
    // RFC 5758 §3.2: the parameters field MUST be absent for ecdsa-with-SHA*.
    a.end('ECDSA AlgorithmIdentifier');
    return { oid, hash };
  }
  if (!a.done) a.next();
  a.end('AlgorithmIdentifier');
  return { oid };
}

function parseBasicConstraints(value: Uint8Array, limits: PkiLimits): { ca: boolean; pathLength?: number } {
  const r = DerReader.of(value, { maxDepth: limits.maxDerDepth });
  const s = r.sequence('BasicConstraints');
  let ca = false;
  const caEl = s.optional(Tag.boolean);
  if (caEl) ca = s.boolean(caEl);
  const out: { ca: boolean; pathLength?: number } = { ca };
  const plen = s.optional(Tag.integer);
  if (plen) out.pathLength = s.smallInteger(plen, 255);
  s.end('BasicConstraints');
  r.end('basicConstraints extension');
  return out;
}

function parseKeyUsage(value: Uint8Array): KeyUsage[] {
  const r = DerReader.of(value);
  const { bytes, unusedBits } = r.bitString(r.expect(Tag.bitString, 'KeyUsage'));
  r.end('keyUsage extension');
  if (bytes.length > 2) throw r.error('KeyUsage longer than 9 bits');
  const out: KeyUsage[] = [];
  const totalBits = bytes.length * 8 - unusedBits;
  KEY_USAGE_NAMES.forEach((name, bit) => {
    // X.680 §22: bit 0 is the most significant bit of the first byte.
    if (bit < totalBits && ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) === 1) out.push(name);
  });
  return out;
}

function parseExtendedKeyUsage(value: Uint8Array, limits: PkiLimits): string[] {
  const r = DerReader.of(value, { maxDepth: limits.maxDerDepth });
  const s = r.sequence('ExtKeyUsageSyntax');
  r.end('extKeyUsage extension');
  const out: string[] = [];
  while (!s.done) {
    if (out.length >= limits.maxExtensions) throw r.error(`more than ${limits.maxExtensions} key purposes`);
    out.push(s.oid(s.expect(Tag.oid, 'KeyPurposeId')));
  }
  if (out.length === 0) throw r.error('empty extKeyUsage');
  return out;
}

function parseExtensions(r: DerReader, el: DerElement, cert: Certificate, limits: PkiLimits): void {
  const wrap = r.enter(el);
  const seq = wrap.sequence('Extensions');
  wrap.end('[3] extensions');
  const seen = new Set<string>();
  while (!seq.done) {
    if (cert.extensions.length >= limits.maxExtensions) throw r.error(`more than ${limits.maxExtensions} extensions`);
    const e = seq.sequence('Extension');
    const oid = e.oid(e.expect(Tag.oid, 'extnID'));
    const critEl = e.optional(Tag.boolean);
    const critical = critEl ? e.boolean(critEl) : false;
    const value = e.expect(Tag.octetString, 'extnValue').value;
    e.end('Extension');
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
    if (seen.has(oid)) throw r.error(`duplicate extension ${oid}`);
    seen.add(oid);
    cert.extensions.push({ oid, critical, value });
    if (oid === Oid.basicConstraints) cert.basicConstraints = parseBasicConstraints(value, limits);
    else if (oid === Oid.keyUsage) cert.keyUsage = parseKeyUsage(value);
    else if (oid === Oid.extKeyUsage) cert.extendedKeyUsage = parseExtendedKeyUsage(value, limits);
  }
}

/** Parses one DER X.509 certificate (RFC 5280 §4.1). */
export function parseCertificate(der: Uint8Array, limitOverrides: Partial<PkiLimits> = {}): Certificate {
  const limits = pkiLimits(limitOverrides);
  if (der.length > limits.maxCertificateBytes) {
    throw PkiErrors.badCertificate(`certificate of ${der.length} bytes over ${limits.maxCertificateBytes}`);
  }
  const r = DerReader.of(der, { maxDepth: limits.maxDerDepth });
  const certEl = r.expect(Tag.sequence, 'Certificate');
  r.end('Certificate');
  const c = r.enter(certEl);
  const tbsEl = c.expect(Tag.sequence, 'TBSCertificate');
  const signatureAlgorithm = parseAlgorithmIdentifier(c, c.expect(Tag.sequence, 'signatureAlgorithm'));
  const sigBits = c.bitString(c.expect(Tag.bitString, 'signatureValue'));
  c.end('Certificate');
  if (sigBits.unusedBits !== 0) throw r.error('signatureValue has unused bits');

  const t = c.enter(tbsEl);
  let version = 1;
  const vEl = t.optional(contextTag(0, true));
  if (vEl) {
    const v = t.enter(vEl);
    version = v.smallInteger(v.expect(Tag.integer, 'version'), 2) + 1;
    v.end('version');
  }
  const serial = t.integerBytes(t.expect(Tag.integer, 'serialNumber'));
  if (serial.length > 32) throw r.error('serialNumber longer than 32 bytes');
  const innerAlg = parseAlgorithmIdentifier(t, t.expect(Tag.sequence, 'signature'));
  // RFC 5280 §4.1.1.2: MUST be the same algorithm as the signature field of the TBS.
  if (innerAlg.oid !== signatureAlgorithm.oid) throw r.error('signatureAlgorithm differs from tbsCertificate.signature');
  const issuer = parseName(t, t.expect(Tag.sequence, 'issuer'), limits.maxNameAttributes);
  const validity = t.sequence('Validity');
  const notBefore = derTime(validity, validity.next());
  const notAfter = derTime(validity, validity.next());
  validity.end('Validity');
  const subject = parseName(t, t.expect(Tag.sequence, 'subject'), limits.maxNameAttributes);
  const publicKey = parseSpkiElement(t, t.expect(Tag.sequence, 'subjectPublicKeyInfo'));
  const cert: Certificate = {
    der: certEl.raw,
    tbs: tbsEl.raw,
    version,
    serialNumber: toHex(serial),
    signatureAlgorithm,
    signature: sigBits.bytes,
    issuer,
    subject,
    notBefore,
    notAfter,
    publicKey,
    extensions: [],
  };
  // RFC 5280 §4.1.2.8: unique identifiers (v2/v3 only) are skipped.
  if (version >= 2) {
    t.optional(contextTag(1, false));
    t.optional(contextTag(2, false));
  }
  if (version === 3) {
    const extEl = t.optional(contextTag(3, true));
    if (extEl) parseExtensions(t, extEl, cert, limits);
  }
  t.end('TBSCertificate');
  return cert;
}
