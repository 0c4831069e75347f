/** The formatting half of AES-CCM (RFC 3610 §2), shared by every CCM backend. */
import { CoreErrors } from '@m2mhub/core';

export const pad16 = (n: number): number => (n + 15) & ~15;

export function checkCcmParams(key: Uint8Array, tagLength: number): void {
  if (key.length !== 16 && key.length !== 32) throw CoreErrors.invalidArgument('AES-CCM key must be 16 or 32 bytes');
  // RFC 3610 §2: M is one of 4, 6, 8, 10, 12, 14, 16.
  if (tagLength < 4 || tagLength > 16 || tagLength % 2 !== 0) throw CoreErrors.invalidArgument('bad CCM tag length');
}

/** Bytes of B_0 || l(a) || a || pad || m || pad for this AAD and message length. */
export function ccmMacInputLength(aadLength: number, msgLength: number): number {
  return 16 + (aadLength > 0 ? pad16(2 + aadLength) : 0) + pad16(msgLength);
}

/**
 * Writes the CBC-MAC input B_0 || l(a) || a || pad || m || pad at b[0] (RFC 3610 §2.2:
 * B_0 = Flags || Nonce || l(m); the AAD is prefixed by its 2-byte length, so < 2^16 - 2^8),
 * zero padding included. `b` must hold `ccmMacInputLength` bytes; returns that length.
 */
export function writeCcmMacInput(b: Uint8Array, nonce: Uint8Array, aad: Uint8Array, msg: Uint8Array, tagLength: number): number {
  const L = 15 - nonce.length;
  if (aad.length >= 0xff00) throw CoreErrors.invalidArgument('CCM AAD too long');
  const aadBlock = aad.length > 0 ? pad16(2 + aad.length) : 0;
  const len = 16 + aadBlock + pad16(msg.length);
  b[0] = (aad.length > 0 ? 0x40 : 0) | (((tagLength - 2) / 2) << 3) | (L - 1);
  b.set(nonce, 1);
  for (let i = 0, n = msg.length; i < L; i++, n = Math.floor(n / 256)) b[15 - i] = n & 0xff;
  if (aad.length > 0) {
    b[16] = aad.length >>> 8;
    b[17] = aad.length & 0xff;
    b.set(aad, 18);
    b.fill(0, 18 + aad.length, 16 + aadBlock);
  }
  b.set(msg, 16 + aadBlock);
  b.fill(0, 16 + aadBlock + msg.length, len);
  return len;
}
