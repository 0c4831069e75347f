/**
 * Authentication of a peer's Certificate message, and our own credentials. X.509 peers must
 * chain to the trust store and their subject CN is the identity and the endpoint name; raw
 * public key peers (RFC 7250) are looked up by SPKI fingerprint in the raw-public-key store.
 */
import { type PeerIdentity, bytesEqual } from '@m2mhub/core';
import { type ChainValidationOptions, validateCertificateChain } from './chain';
import type { EcBackend } from './ec-backend';
import { p256PublicKey } from './ecdsa';
import { PkiErrors } from './errors';
import { type PkiLimits, pkiLimits } from './limits';
import { Oid } from './oids';
import { CertificateType, type CertificateTypeId } from './messages/certificate-type';
import type { CertificateMessage } from './messages/certificate';
import { type EcPrivateKey, readCertificatesPem, readPrivateKeyPem } from './pem';
import { decodeP256Spki, encodeP256Spki, spkiFingerprint } from './spki';
import type { DerTrustStore, RawPublicKeyStore, TrustStore } from './stores';
import { type Certificate, parseCertificate } from './x509';

export interface PeerAuthOptions {
  /** Needed to accept X.509 peers: parsed roots, or DER anchors (the handshake's port). */
  trustStore?: TrustStore | DerTrustStore;
  /** Needed to accept raw-public-key peers. */
  rawPublicKeyStore?: RawPublicKeyStore;
  /** Wall-clock Unix ms for validity checks (inject `Clock.wallNow()`). */
  now: number;
  limits?: Partial<PkiLimits>;
  /** Signature verification backend for the chain; `nobleEc` by default. */
  ec?: EcBackend;
  /**
   * The peer's role, to check an X.509 leaf's extKeyUsage (RFC 5280 §4.2.1.12): a `client`
   * certificate must allow clientAuth, a `server` one serverAuth. Unset: not checked.
   */
  peerRole?: 'client' | 'server';
}

export interface AuthenticatedPeer {
  identity: PeerIdentity;
  /** The peer's P-256 public point, to verify its ServerKeyExchange or CertificateVerify. */
  publicKey: Uint8Array;
  /** The validated leaf certificate (X.509 only). */
  certificate?: Certificate;
}

async function rootsOf(store: TrustStore | DerTrustStore, limits: PkiLimits): Promise<Certificate[]> {
  if ('trustedRoots' in store) return store.trustedRoots();
  return (await store.anchors()).map((der) => parseCertificate(der, limits));
}

/**
 * Checks a peer's Certificate message. Errors carry the alert: handshake_failure (no
 * certificate, or a kind we have no store for), certificate_expired, unknown_ca,
 * bad_certificate (incl. an untrusted raw key or no CN), unsupported_certificate.
 */
export async function authenticatePeer(msg: CertificateMessage, opts: PeerAuthOptions): Promise<AuthenticatedPeer> {
  const limits = pkiLimits(opts.limits);
  if (msg.type === CertificateType.rawPublicKey) {
    if (!opts.rawPublicKeyStore) throw PkiErrors.noCommonParameters('raw public keys are not accepted');
    const publicKey = decodeP256Spki(msg.spki);
    // The fingerprint is over the canonical (uncompressed) SPKI, as `openssl pkey -pubout` writes it.
    const id = spkiFingerprint(encodeP256Spki(publicKey));
    const bound = await opts.rawPublicKeyStore.lookup(id);
    if (!bound) throw PkiErrors.untrustedKey(`raw public key ${id} is not registered`);
    const identity: PeerIdentity = { kind: 'rpk', id };
    if (bound.endpoint !== undefined) identity.endpoint = bound.endpoint;
    return { identity, publicKey };
  }
  if (!opts.trustStore) throw PkiErrors.noCommonParameters('X.509 certificates are not accepted');
  // RFC 5246 §7.4.6: a client that sends no certificate when one is required fails the handshake.
  if (msg.chain.length === 0) throw PkiErrors.noCommonParameters('peer sent no certificate');
  const chain = msg.chain.map((der) => parseCertificate(der, limits));
  const chainOpts: ChainValidationOptions = {
    trustedRoots: await rootsOf(opts.trustStore, limits),
    now: opts.now,
    maxChainLength: limits.maxChainLength,
    // RFC 4492 §5.3/§5.6: an ECDSA signing certificate must allow digitalSignature.
    leafKeyUsage: 'digitalSignature',
  };
  if (opts.ec) chainOpts.ec = opts.ec;
  if (opts.peerRole) chainOpts.leafPurpose = opts.peerRole === 'client' ? Oid.clientAuth : Oid.serverAuth;
  const validated = validateCertificateChain(chain, chainOpts);
  const leaf = validated.leaf;
  if (leaf.publicKey.curve !== 'P-256' || !leaf.publicKey.point) {
    throw PkiErrors.unsupportedCertificate('leaf key is not EC P-256');
  }
  const cn = leaf.subject.commonName;
  if (!cn) throw PkiErrors.badCertificate('leaf certificate has no subject CN (the endpoint name)');
  return { identity: { kind: 'x509', id: cn, endpoint: cn }, publicKey: leaf.publicKey.point, certificate: leaf };
}

/** Our own long-term key and what we present with it. */
export interface LocalCredentials extends EcPrivateKey {
  /** DER chain, leaf first; empty for raw-public-key-only credentials. */
  chain: Uint8Array[];
  /** SubjectPublicKeyInfo of our key (the RFC 7250 raw public key). */
  spki: Uint8Array;
}

/** Credentials from `cert.pem` (leaf first, intermediates after) and `key.pem`; the key must match the leaf. */
export function loadPemCredentials(certPem: string, keyPem: string, limits: Partial<PkiLimits> = {}): LocalCredentials {
  const certs = readCertificatesPem(certPem, limits);
  const key = readPrivateKeyPem(keyPem, limits);
  const leaf = certs[0];
  if (!leaf) throw PkiErrors.badKey('no CERTIFICATE in the certificate PEM');
  if (!leaf.publicKey.point || !bytesEqual(leaf.publicKey.point, key.publicKey)) {
    throw PkiErrors.badKey('the private key does not belong to the first certificate');
  }
  return { ...key, chain: certs.map((c) => c.der), spki: encodeP256Spki(key.publicKey) };
}

/** Raw-public-key credentials from a bare P-256 private key. */
export function rawKeyCredentials(privateKey: Uint8Array): LocalCredentials {
  const publicKey = p256PublicKey(privateKey);
  return { privateKey, publicKey, chain: [], spki: encodeP256Spki(publicKey) };
}

/** The Certificate message to send for the negotiated certificate type. */
export function localCertificateMessage(creds: LocalCredentials, type: CertificateTypeId): CertificateMessage {
  if (type === CertificateType.rawPublicKey) return { type, spki: creds.spki };
  if (creds.chain.length === 0) throw PkiErrors.noCommonParameters('no X.509 certificate configured');
  return { type, chain: creds.chain };
}
