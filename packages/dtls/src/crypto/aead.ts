/** An AEAD cipher bound to one key (RFC 5116 interface): seal returns ciphertext || tag. */
export interface Aead {
  readonly tagLength: number;
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Returns the plaintext, or undefined when the tag does not verify. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined;
}

/** Which implementation backs the record ciphers: node:crypto (OpenSSL) or @noble/ciphers. */
export type CipherBackend = 'node' | 'noble';
