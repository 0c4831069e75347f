/**
 * Encryption at rest for device secrets (DESIGN.md §6): AES-256-GCM with a key kept in
 * `<data_dir>/secret.key`, created with mode 0600 on first start. The key and what it
 * protects are never logged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { GwErrors } from './errors';

export interface Sealed {
  /** base64 of iv (12) | tag (16) | ciphertext */
  v: string;
}

const KEY_BYTES = 32;

export class SecretBox {
  private constructor(private readonly key: Uint8Array) {}

  static fromKey(key: Uint8Array): SecretBox {
    if (key.length !== KEY_BYTES) throw GwErrors.badConfig('secret key must be 32 bytes');
    return new SecretBox(key.slice());
  }

  /** Loads `file`, or creates it (0600, exclusive) with a fresh random key. */
  static fromFile(file: string): SecretBox {
    try {
      return SecretBox.fromKey(parseKeyFile(readFileSync(file)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const key = randomBytes(KEY_BYTES);
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${key.toString('hex')}\n`);
      closeSync(fd);
      chmodSync(file, 0o600);
      return SecretBox.fromKey(key);
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return SecretBox.fromKey(parseKeyFile(readFileSync(file)));
      throw e;
    }
  }

  seal(plain: Uint8Array, aad: string): Sealed {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plain), c.final()]);
    return { v: Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64') };
  }

  /** `aad` binds the ciphertext to its owner (the endpoint), so records cannot be swapped. */
  open(s: Sealed, aad: string): Uint8Array {
    const raw = Buffer.from(s.v, 'base64');
    if (raw.length < 28) throw GwErrors.badCredential('sealed value too short');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(raw.subarray(12, 28));
    try {
      return new Uint8Array(Buffer.concat([d.update(raw.subarray(28)), d.final()]));
    } catch {
      throw GwErrors.badCredential('sealed value does not authenticate (wrong secret.key?)');
    }
  }
}

function parseKeyFile(buf: Buffer): Uint8Array {
  const hex = buf.toString('utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw GwErrors.badConfig('secret.key must hold 64 hex digits');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
