/** An AEAD cipher bound to one key (RFC 5116 interface): seal returns ciphertext || tag. */
export interface Aead {
  readonly tagLength: number;
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Returns the plaintext, or undefined when the tag does not verify. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined;
  /** Optional: writes ciphertext || tag at `out[offset]` instead of returning a new array. */
  sealInto?(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void;
  /** Optional: frees per-key native state while the key is idle (recreated on next use). */
  release?(): void;
}

/**
 * Which implementation backs the record ciphers: node:crypto on persistent contexts
 * ('node-stream': CCM as CBC-MAC + CTR, see aes-ccm-stream.ts; GCM as 'node'), node:crypto
 * with a context per record ('node'), or @noble/ciphers ('noble', the tested reference).
 */
export type CipherBackend = 'node-stream' | 'node' | 'noble';
