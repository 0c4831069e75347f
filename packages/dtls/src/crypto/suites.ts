/** The cipher suites we implement, as data (RFC 4279, RFC 5487, RFC 6655, RFC 7251, RFC 5289). */
export type KeyExchange = 'psk' | 'ecdhe_ecdsa';
export type BulkCipher = 'ccm8' | 'gcm' | 'cbc_sha256';

export interface CipherSuite {
  id: number;
  name: string;
  keyExchange: KeyExchange;
  cipher: BulkCipher;
  macKeyLength: number;
  encKeyLength: number;
  /** Implicit part of the nonce from the key block (AEAD salt, RFC 5288 §3). */
  fixedIvLength: number;
}

export const CIPHER_SUITES: readonly CipherSuite[] = [
  // LwM2M Transport §5.2.8: TLS_PSK_WITH_AES_128_CCM_8 is mandatory to implement.
  { id: 0xc0a8, name: 'TLS_PSK_WITH_AES_128_CCM_8', keyExchange: 'psk', cipher: 'ccm8', macKeyLength: 0, encKeyLength: 16, fixedIvLength: 4 },
  { id: 0x00a8, name: 'TLS_PSK_WITH_AES_128_GCM_SHA256', keyExchange: 'psk', cipher: 'gcm', macKeyLength: 0, encKeyLength: 16, fixedIvLength: 4 },
  { id: 0x00ae, name: 'TLS_PSK_WITH_AES_128_CBC_SHA256', keyExchange: 'psk', cipher: 'cbc_sha256', macKeyLength: 32, encKeyLength: 16, fixedIvLength: 0 },
  { id: 0xc0ae, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', keyExchange: 'ecdhe_ecdsa', cipher: 'ccm8', macKeyLength: 0, encKeyLength: 16, fixedIvLength: 4 },
  { id: 0xc02b, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', keyExchange: 'ecdhe_ecdsa', cipher: 'gcm', macKeyLength: 0, encKeyLength: 16, fixedIvLength: 4 },
];

const byId = new Map(CIPHER_SUITES.map((s) => [s.id, s]));

export function suiteById(id: number): CipherSuite | undefined {
  return byId.get(id);
}

export function suiteByName(name: string): CipherSuite | undefined {
  return CIPHER_SUITES.find((s) => s.name === name);
}
