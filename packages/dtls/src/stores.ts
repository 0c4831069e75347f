/**
 * Credential ports. The hub backs them with the durable store; tests and small setups use
 * the in-memory helpers below. Keys never leave these objects except into the key schedule.
 */
export interface PskEntry {
  key: Uint8Array;
  /** LwM2M endpoint name bound to this identity (DESIGN.md §6). */
  endpoint?: string;
}

export interface PskStore {
  /** Looks up a PSK identity (RFC 4279 §5.1: UTF-8). Undefined when unknown. */
  lookup(identity: string): Promise<PskEntry | undefined> | PskEntry | undefined;
}

export interface RpkEntry {
  endpoint?: string;
}

/** Raw public keys (RFC 7250) of devices, by hex SHA-256 fingerprint of their SubjectPublicKeyInfo. */
export interface RpkStore {
  lookup(spkiSha256Hex: string): Promise<RpkEntry | undefined> | RpkEntry | undefined;
}

/** Trust anchors for X.509 client certificates (DER). */
export interface TrustStore {
  anchors(): Promise<Uint8Array[]> | Uint8Array[];
}

/** An in-memory PSK store: identity -> key (and optional endpoint name). */
export function memoryPskStore(entries: Record<string, PskEntry | Uint8Array>): PskStore {
  const map = new Map<string, PskEntry>();
  for (const [id, v] of Object.entries(entries)) map.set(id, v instanceof Uint8Array ? { key: v } : v);
  return { lookup: (identity) => map.get(identity) };
}
