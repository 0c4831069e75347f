/**
 * Certificate path validation (a subset of RFC 5280 §6 sized for device PKI): the peer's chain
 * (leaf first, RFC 5246 §7.4.2) must lead, by issuer/subject name and ECDSA signature, to a
 * trusted root; every certificate must be valid at the injected time; every issuer must be a
 * CA (basicConstraints cA, keyCertSign when keyUsage is present) within its pathLenConstraint;
 * unknown critical extensions are refused (RFC 5280 §4.2).
 */
import { bytesEqual } from '@m2mhub/core';
import { type EcBackend, nobleEc } from './ec-backend';
import { PkiErrors } from './errors';
import { DEFAULT_PKI_LIMITS } from './limits';
import { Oid } from './oids';
import type { Certificate, KeyUsage } from './x509';
import { formatName } from './name';

/** Critical extensions we process (RFC 5280 §4.2: any other critical one rejects the cert). */
const UNDERSTOOD_CRITICAL = new Set<string>([
  Oid.basicConstraints,
  Oid.keyUsage,
  Oid.extKeyUsage,
  Oid.subjectAltName,
  Oid.subjectKeyIdentifier,
  Oid.authorityKeyIdentifier,
  Oid.certificatePolicies,
]);

export interface ChainValidationOptions {
  /** Trusted roots (trust anchors). A trusted certificate may also be the leaf itself. */
  trustedRoots: readonly Certificate[];
  /** Wall-clock time to check validity at, Unix ms (from an injected `Clock.wallNow()`). */
  now: number;
  /** Most certificates in a path, leaf and anchor included. Default `DEFAULT_PKI_LIMITS.maxChainLength`. */
  maxChainLength?: number;
  /** Key usage the leaf must allow when it has a keyUsage extension (RFC 4492 §5.3: digitalSignature). */
  leafKeyUsage?: KeyUsage;
  /**
   * Key purpose the leaf must allow when it has an extKeyUsage extension (RFC 5280 §4.2.1.12):
   * `Oid.clientAuth` for a device authenticating to us, `Oid.serverAuth` for a server.
   */
  leafPurpose?: string;
  /** Signature verification backend; `nobleEc` by default. */
  ec?: EcBackend;
}

export interface ValidatedChain {
  leaf: Certificate;
  /** The path from the leaf to the anchor, both included. */
  path: Certificate[];
  anchor: Certificate;
}

function checkCommon(cert: Certificate, now: number): void {
  const who = formatName(cert.subject);
  if (now < cert.notBefore) throw PkiErrors.certificateExpired(`"${who}" not valid before ${new Date(cert.notBefore).toISOString()}`);
  if (now > cert.notAfter) throw PkiErrors.certificateExpired(`"${who}" expired at ${new Date(cert.notAfter).toISOString()}`);
  for (const e of cert.extensions) {
    if (e.critical && !UNDERSTOOD_CRITICAL.has(e.oid)) {
      throw PkiErrors.unsupportedCertificate(`"${who}" has unsupported critical extension ${e.oid}`);
    }
  }
}

/** True when `issuer`'s key verifies `cert`'s signature; unsupported algorithms raise. */
function signedBy(cert: Certificate, issuer: Certificate, ec: EcBackend): boolean {
  const hash = cert.signatureAlgorithm.hash;
  if (!hash) {
    throw PkiErrors.unsupportedCertificate(`signature algorithm ${cert.signatureAlgorithm.oid} (only ECDSA is supported)`);
  }
  const { curve, point } = issuer.publicKey;
  if (!curve || !point) {
    throw PkiErrors.unsupportedCertificate(`issuer key algorithm ${issuer.publicKey.algorithm} (only EC P-256/P-384)`);
  }
  return ec.verify({ curve, point }, cert.tbs, cert.signature, hash);
}

function checkIssuerIsCa(issuer: Certificate, below: number): void {
  const who = formatName(issuer.subject);
  // RFC 5280 §6.1.4 (k): a v3 issuer must assert cA; v1/v2 intermediates are refused too.
  if (!issuer.basicConstraints?.ca) throw PkiErrors.invalidChain(`"${who}" issues certificates but is not a CA`);
  // RFC 5280 §6.1.4 (n): keyCertSign when keyUsage is present.
  if (issuer.keyUsage && !issuer.keyUsage.includes('keyCertSign')) {
    throw PkiErrors.invalidChain(`"${who}" keyUsage lacks keyCertSign`);
  }
  // RFC 5280 §6.1.4 (m): pathLenConstraint counts the non-self-issued intermediates below.
  const plen = issuer.basicConstraints.pathLength;
  if (plen !== undefined && below > plen) throw PkiErrors.invalidChain(`"${who}" pathLenConstraint ${plen} exceeded`);
}

/** The trusted root that issued `cert`; bad_certificate when roots of that name exist but none signed it. */
function findAnchor(cert: Certificate, roots: readonly Certificate[], ec: EcBackend): Certificate | undefined {
  let nameMatched = false;
  for (const root of roots) {
    if (!bytesEqual(root.subject.der, cert.issuer.der)) continue;
    nameMatched = true;
    if (signedBy(cert, root, ec)) return root;
  }
  if (nameMatched) throw PkiErrors.badCertificate(`signature of "${formatName(cert.subject)}" does not verify`);
  return undefined;
}

/**
 * Validates `chain` (leaf first, each next certificate certifying the previous one) against
 * `trustedRoots`. Throws a typed error carrying the alert: certificate_expired, unknown_ca,
 * bad_certificate (signature or chain structure), unsupported_certificate (RSA, other curves,
 * unknown critical extensions).
 */
export function validateCertificateChain(chain: readonly Certificate[], opts: ChainValidationOptions): ValidatedChain {
  const max = opts.maxChainLength ?? DEFAULT_PKI_LIMITS.maxChainLength;
  const ec = opts.ec ?? nobleEc;
  const leaf = chain[0];
  if (!leaf) throw PkiErrors.badCertificate('empty certificate chain');
  if (chain.length > max) throw PkiErrors.invalidChain(`chain of ${chain.length} certificates over ${max}`);
  if (opts.leafKeyUsage && leaf.keyUsage && !leaf.keyUsage.includes(opts.leafKeyUsage)) {
    throw PkiErrors.unsupportedCertificate(`leaf keyUsage lacks ${opts.leafKeyUsage}`);
  }
  const eku = leaf.extendedKeyUsage;
  if (opts.leafPurpose && eku && !eku.includes(opts.leafPurpose) && !eku.includes(Oid.anyExtendedKeyUsage)) {
    // OpenSSL sends unsupported_certificate for X509_V_ERR_INVALID_PURPOSE too.
    throw PkiErrors.unsupportedCertificate(`leaf extKeyUsage lacks ${opts.leafPurpose}`);
  }
  const path: Certificate[] = [];
  for (let i = 0; ; i++) {
    const cert = chain[i];
    if (!cert) throw PkiErrors.unknownCa(`no trusted root issued "${formatName(chain[i - 1]!.issuer)}"`);
    checkCommon(cert, opts.now);
    path.push(cert);
    // A certificate that is itself trusted ends the path (a pinned leaf, or a root sent in the chain).
    const pinned = opts.trustedRoots.find((t) => bytesEqual(t.der, cert.der));
    if (pinned) return { leaf, path, anchor: pinned };
    if (path.length + 1 > max) throw PkiErrors.invalidChain(`path longer than ${max} certificates`);
    const anchor = findAnchor(cert, opts.trustedRoots, ec);
    if (anchor) {
      // A v1 root is a trust anchor by configuration; a v3 one must say it is a CA.
      if (anchor.version === 3) checkIssuerIsCa(anchor, i);
      checkCommon(anchor, opts.now);
      path.push(anchor);
      return { leaf, path, anchor };
    }
    const next = chain[i + 1];
    if (!next) continue; // reports unknown_ca on the next turn
    if (!bytesEqual(next.subject.der, cert.issuer.der)) {
      throw PkiErrors.invalidChain(`"${formatName(next.subject)}" did not issue "${formatName(cert.subject)}"`);
    }
    checkIssuerIsCa(next, i);
    if (!signedBy(cert, next, ec)) {
      throw PkiErrors.badCertificate(`signature of "${formatName(cert.subject)}" does not verify`);
    }
  }
}
