/**
 * Password hashing for MQTT users: scrypt (node:crypto), encoded as
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`. Plain passwords never leave this module.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { BrokerErrors } from './errors';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 16384, r: 8, p: 1 };
const KEY_LEN = 32;
/** Bounds on stored parameters, so a tampered hash cannot make verification allocate gigabytes. */
const MAX_N = 1 << 20;

function derive(password: string | Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LEN, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash extends ScryptParams {
  salt: Buffer;
  key: Buffer;
}

export function parsePasswordHash(encoded: string): ParsedHash {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw BrokerErrors.badPasswordHash('expected scrypt$N$r$p$salt$hash');
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const pow2 = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  if (!pow2 || N > MAX_N || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) {
    throw BrokerErrors.badPasswordHash('scrypt parameters out of range');
  }
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || key.length !== KEY_LEN) throw BrokerErrors.badPasswordHash('salt or hash length');
  return { N, r, p, salt, key };
}

export function isPasswordHash(s: string): boolean {
  try {
    parsePasswordHash(s);
    return true;
  } catch {
    return false;
  }
}

/** Constant-time check of `password` against an encoded hash. */
export async function verifyPassword(password: string | Buffer, encoded: string): Promise<boolean> {
  const h = parsePasswordHash(encoded);
  const key = await derive(password, h.salt, h);
  return timingSafeEqual(key, h.key);
}
