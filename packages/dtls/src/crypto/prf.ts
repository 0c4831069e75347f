/** TLS 1.2 PRF with P_SHA256 (RFC 5246 §5) and the hash helpers the handshake uses. */
import { createHash, createHmac } from 'node:crypto';

const enc = new TextEncoder();

export function hmacSha256(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  const out = h.digest();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function sha256(...data: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const d of data) h.update(d);
  const out = h.digest();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * P_SHA256(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
 * with A(0) = seed, A(i) = HMAC(secret, A(i-1)) (RFC 5246 §5).
 */
export function pSha256(secret: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  // A(i) || seed in one buffer: one HMAC update per chunk (each native call costs).
  const aSeed = new Uint8Array(32 + seed.length);
  aSeed.set(seed, 32);
  const a = aSeed.subarray(0, 32);
  a.set(hmacSha256(secret, seed));
  let off = 0;
  for (;;) {
    const chunk = hmacSha256(secret, aSeed);
    out.set(chunk.subarray(0, Math.min(chunk.length, length - off)), off);
    off += chunk.length;
    if (off >= length) return out;
    a.set(hmacSha256(secret, a));
  }
}

/** PRF(secret, label, seed) = P_SHA256(secret, label + seed) (RFC 5246 §5). */
export function prf(secret: Uint8Array, label: string, seed: Uint8Array, length: number): Uint8Array {
  const l = enc.encode(label);
  const s = new Uint8Array(l.length + seed.length);
  s.set(l, 0);
  s.set(seed, l.length);
  return pSha256(secret, s, length);
}
