/**
 * Credential ports for certificate and raw-public-key authentication (DESIGN.md §2: credentials
 * come in through ports), with in-memory implementations for tests and small deployments.
 */
import { decodeP256Spki, encodeP256Spki, spkiFingerprint } from './spki';
import type { Certificate } from './x509';

/** Trust anchors for X.509 peers (`{"x509":{}}`: chain to one of these, CN = endpoint). */
export interface TrustStore {
  trustedRoots(): Promise<Certificate[]>;
}

/**
 * Trust anchors as DER, the shape of the handshake's own `TrustStore` port (`../stores`);
 * `authenticatePeer` accepts either form.
 */
export interface DerTrustStore {
  anchors(): Promise<Uint8Array[]> | Uint8Array[];
}

/**
 * Raw public keys (RFC 7250) bound to endpoints (`{"rpk":{"publicKey":"<base64 SPKI>"}}`).
 * Sync answers and an absent endpoint are allowed so the handshake's `RpkStore` fits too.
 */
export interface RawPublicKeyStore {
  /** The endpoint bound to the key whose SPKI DER has this SHA-256 (lower-case hex). */
  lookup(spkiFingerprintHex: string): Promise<{ endpoint?: string } | undefined> | { endpoint?: string } | undefined;
}

export class InMemoryTrustStore implements TrustStore {
  private roots: Certificate[];
  constructor(roots: Iterable<Certificate> = []) {
    this.roots = [...roots];
  }
  add(cert: Certificate): void {
    this.roots.push(cert);
  }
  async trustedRoots(): Promise<Certificate[]> {
    return [...this.roots];
  }
}

export class InMemoryRawPublicKeyStore implements RawPublicKeyStore {
  private readonly byFingerprint = new Map<string, string>();
  /**
   * Binds the key (P-256 SPKI DER, either point form) to `endpoint`; returns its fingerprint,
   * taken over the canonical uncompressed SPKI as `authenticatePeer` computes it.
   */
  add(spki: Uint8Array, endpoint: string): string {
    const fp = spkiFingerprint(encodeP256Spki(decodeP256Spki(spki)));
    this.byFingerprint.set(fp, endpoint);
    return fp;
  }
  remove(fingerprint: string): boolean {
    return this.byFingerprint.delete(fingerprint.toLowerCase());
  }
  async lookup(spkiFingerprintHex: string): Promise<{ endpoint: string } | undefined> {
    const endpoint = this.byFingerprint.get(spkiFingerprintHex.toLowerCase());
    return endpoint === undefined ? undefined : { endpoint };
  }
}
