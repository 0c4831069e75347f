/**
 * Bearer tokens (DESIGN.md §4): a JWT (RFC 7519) signed with HMAC-SHA256 (RFC 7518 §3.2,
 * "HS256"). Pure: the key and the time come from the caller. Only our own fixed header is
 * accepted (no `alg` negotiation, so no "none" or algorithm confusion), the token length is
 * bounded before anything is decoded, and the signature is compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** Admin user name. */
  sub: string;
  /** The user's password generation: a password change revokes older tokens. */
  gen: number;
  /** Issued at, Unix seconds. */
  iat: number;
  /** Expires at, Unix seconds (RFC 7519 §4.1.4). */
  exp: number;
}

/** Longest token accepted (a real one is about 200 bytes). */
export const MAX_TOKEN_LENGTH = 2048;

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function mac(key: Uint8Array, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function signToken(key: Uint8Array, claims: TokenClaims): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** The claims of a well-signed, unexpired token; undefined for anything else. `nowSec` is Unix seconds. */
export function verifyToken(key: Uint8Array, token: string, nowSec: number): TokenClaims | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const sig = Buffer.from(parts[2]!, 'base64url');
  const want = mac(key, `${parts[0]}.${parts[1]}`);
  if (sig.length !== want.length || !timingSafeEqual(sig, want)) return undefined;
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof c !== 'object' || c === null) return undefined;
  const { sub, gen, iat, exp } = c as Record<string, unknown>;
  if (typeof sub !== 'string' || typeof gen !== 'number' || typeof iat !== 'number' || typeof exp !== 'number') return undefined;
  // RFC 7519 §4.1.4: not accepted on or after the expiration time.
  if (nowSec >= exp) return undefined;
  return { sub, gen, iat, exp };
}
