/**
 * PEM (RFC 7468) reading and writing: certificates, SEC1 `EC PRIVATE KEY` (RFC 5915) and
 * PKCS#8 `PRIVATE KEY` (RFC 5958) P-256 keys, as `openssl` writes them. Bounded by
 * `maxPemBytes` and `maxPemBlocks`; encrypted keys are refused with a clear error.
 */
import { bytesEqual } from '@m2mhub/core';
import { p256 } from '@noble/curves/nist.js';
import { DerReader, Tag, contextTag } from './asn1';
import { derBitString, derOctetString, derOid, derSequence, derSmallInteger, derTlv } from './der-writer';
import { PkiErrors } from './errors';
import { type PkiLimits, pkiLimits } from './limits';
import { Oid } from './oids';
import { type Certificate, parseCertificate } from './x509';

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

/** All PEM blocks of `text`, in order (RFC 7468 §2); text between blocks is ignored. */
export function parsePem(text: string, limitOverrides: Partial<PkiLimits> = {}): PemBlock[] {
  const limits = pkiLimits(limitOverrides);
  if (text.length > limits.maxPemBytes) throw PkiErrors.badKey(`PEM text over ${limits.maxPemBytes} bytes`);
  const blocks: PemBlock[] = [];
  let label: string | undefined;
  let body: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    const begin = /^-----BEGIN ([A-Z0-9 ]{1,64})-----$/.exec(line);
    if (begin) {
      if (label !== undefined) throw PkiErrors.badKey(`PEM block "${label}" has no END line`);
      label = begin[1]!;
      body = [];
      continue;
    }
    if (label === undefined) continue;
    const end = /^-----END ([A-Z0-9 ]{1,64})-----$/.exec(line);
    if (end) {
      if (end[1] !== label) throw PkiErrors.badKey(`PEM END "${end[1]}" does not match BEGIN "${label}"`);
      const b64 = body.join('');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw PkiErrors.badKey(`PEM "${label}" body is not base64`);
      if (blocks.length >= limits.maxPemBlocks) throw PkiErrors.badKey(`more than ${limits.maxPemBlocks} PEM blocks`);
      blocks.push({ label, der: new Uint8Array(Buffer.from(b64, 'base64')) });
      label = undefined;
      continue;
    }
    // RFC 1421 headers mark an encrypted (legacy) key.
    if (line.includes(':')) throw PkiErrors.badKey(`PEM "${label}" has headers (encrypted keys are not supported)`);
    body.push(line);
  }
  if (label !== undefined) throw PkiErrors.badKey(`PEM block "${label}" has no END line`);
  return blocks;
}

/** One PEM block with 64-character lines (RFC 7468 §2). */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every `CERTIFICATE` block of a PEM text, parsed, in file order (leaf first for a chain file). */
export function readCertificatesPem(text: string, limitOverrides: Partial<PkiLimits> = {}): Certificate[] {
  return parsePem(text, limitOverrides)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => parseCertificate(b.der, limitOverrides));
}

export function certificateToPem(cert: Certificate | Uint8Array): string {
  return toPem('CERTIFICATE', cert instanceof Uint8Array ? cert : cert.der);
}

export interface EcPrivateKey {
  /** The 32-byte P-256 scalar. Never log it. */
  privateKey: Uint8Array;
  /** Uncompressed public point. */
  publicKey: Uint8Array;
}

function keyFromScalar(scalar: Uint8Array, embeddedPublic: Uint8Array | undefined): EcPrivateKey {
  if (scalar.length > 32) throw PkiErrors.badKey('private key longer than 32 bytes');
  const privateKey = new Uint8Array(32);
  privateKey.set(scalar, 32 - scalar.length);
  if (!p256.utils.isValidSecretKey(privateKey)) throw PkiErrors.badKey('private key out of range for P-256');
  const publicKey = p256.getPublicKey(privateKey, false);
  if (embeddedPublic && !bytesEqual(embeddedPublic, publicKey)) {
    throw PkiErrors.badKey('embedded public key does not match the private key');
  }
  return { privateKey, publicKey };
}

/** RFC 5915 §3 ECPrivateKey; `expectCurve` false inside PKCS#8, where the curve is outside. */
function parseSec1(der: Uint8Array, requireNamedCurve: boolean): EcPrivateKey {
  const r = DerReader.of(der, { fail: PkiErrors.badKey });
  const s = r.sequence('ECPrivateKey');
  if (s.smallInteger(s.expect(Tag.integer, 'version')) !== 1) throw PkiErrors.badKey('ECPrivateKey version must be 1');
  const scalar = s.expect(Tag.octetString, 'privateKey').value;
  const params = s.optional(contextTag(0, true));
  if (params) {
    const p = s.enter(params);
    const curve = p.oid(p.expect(Tag.oid, 'namedCurve'));
    if (curve !== Oid.prime256v1) throw PkiErrors.badKey(`curve ${curve} is not P-256`);
  } else if (requireNamedCurve) {
    throw PkiErrors.badKey('EC PRIVATE KEY without curve parameters');
  }
  let embedded: Uint8Array | undefined;
  const pub = s.optional(contextTag(1, true));
  if (pub) {
    const p = s.enter(pub);
    embedded = p.bitString(p.expect(Tag.bitString, 'publicKey')).bytes;
  }
  s.end('ECPrivateKey');
  return keyFromScalar(scalar, embedded);
}

/** RFC 5958 §2 OneAsymmetricKey with id-ecPublicKey / prime256v1. */
function parsePkcs8(der: Uint8Array): EcPrivateKey {
  const r = DerReader.of(der, { fail: PkiErrors.badKey });
  const s = r.sequence('PrivateKeyInfo');
  s.smallInteger(s.expect(Tag.integer, 'version'), 1);
  const alg = s.sequence('privateKeyAlgorithm');
  const algOid = alg.oid(alg.expect(Tag.oid, 'algorithm'));
  if (algOid !== Oid.ecPublicKey) throw PkiErrors.badKey(`key algorithm ${algOid} is not EC`);
  const curve = alg.oid(alg.expect(Tag.oid, 'namedCurve'));
  if (curve !== Oid.prime256v1) throw PkiErrors.badKey(`curve ${curve} is not P-256`);
  const inner = s.expect(Tag.octetString, 'privateKey').value;
  return parseSec1(inner, false);
}

/** The P-256 private key of a PEM text (`EC PRIVATE KEY` or `PRIVATE KEY`; `EC PARAMETERS` is skipped). */
export function readPrivateKeyPem(text: string, limitOverrides: Partial<PkiLimits> = {}): EcPrivateKey {
  for (const b of parsePem(text, limitOverrides)) {
    if (b.label === 'EC PRIVATE KEY') return parseSec1(b.der, true);
    if (b.label === 'PRIVATE KEY') return parsePkcs8(b.der);
    if (b.label === 'ENCRYPTED PRIVATE KEY') throw PkiErrors.badKey('encrypted private keys are not supported');
  }
  throw PkiErrors.badKey('no EC PRIVATE KEY or PRIVATE KEY block');
}

function sec1Der(key: Uint8Array, withCurve: boolean): Uint8Array {
  const { privateKey, publicKey } = keyFromScalar(key, undefined);
  const parts = [derSmallInteger(1), derOctetString(privateKey)];
  if (withCurve) parts.push(derTlv(contextTag(0, true), derOid(Oid.prime256v1)));
  parts.push(derTlv(contextTag(1, true), derBitString(publicKey)));
  return derSequence(...parts);
}

/** PEM of a P-256 private key as `openssl` writes it: SEC1 (`EC PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`). */
export function privateKeyToPem(privateKey: Uint8Array, format: 'sec1' | 'pkcs8' = 'pkcs8'): string {
  if (format === 'sec1') return toPem('EC PRIVATE KEY', sec1Der(privateKey, true));
  const alg = derSequence(derOid(Oid.ecPublicKey), derOid(Oid.prime256v1));
  return toPem('PRIVATE KEY', derSequence(derSmallInteger(0), alg, derOctetString(sec1Der(privateKey, false))));
}

/** PEM `PUBLIC KEY` of an SPKI DER (as `openssl pkey -pubout` writes it). */
export function publicKeyToPem(spki: Uint8Array): string {
  return toPem('PUBLIC KEY', spki);
}
