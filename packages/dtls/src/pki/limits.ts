/**
 * Every size bound of the PKI parsers, as one config object with defaults. Parsers take a
 * `Partial<PkiLimits>` and fill the rest from `DEFAULT_PKI_LIMITS`.
 */
export interface PkiLimits {
  /** Largest DER certificate accepted (bytes). */
  maxCertificateBytes: number;
  /** Deepest DER nesting any parser descends to. */
  maxDerDepth: number;
  /** Attributes per distinguished name (all RDNs together). */
  maxNameAttributes: number;
  /** Extensions per certificate. */
  maxExtensions: number;
  /** Certificates in one Certificate message / chain, leaf included. */
  maxChainLength: number;
  /** Largest Certificate handshake message body (bytes). */
  maxCertificateMessageBytes: number;
  /** Distinguished names in a CertificateRequest. */
  maxCertificateAuthorities: number;
  /** Largest PEM text accepted (bytes). */
  maxPemBytes: number;
  /** PEM blocks in one text. */
  maxPemBlocks: number;
}

export const DEFAULT_PKI_LIMITS: Readonly<PkiLimits> = Object.freeze({
  maxCertificateBytes: 8192,
  maxDerDepth: 12,
  maxNameAttributes: 32,
  maxExtensions: 32,
  maxChainLength: 6,
  maxCertificateMessageBytes: 32768,
  maxCertificateAuthorities: 64,
  maxPemBytes: 1 << 20,
  maxPemBlocks: 32,
});

export function pkiLimits(overrides: Partial<PkiLimits> = {}): PkiLimits {
  return { ...DEFAULT_PKI_LIMITS, ...overrides };
}
