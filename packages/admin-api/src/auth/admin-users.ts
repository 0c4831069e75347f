/**
 * Admin users of the REST API, kept in the store as scrypt hashes (`@m2mhub/broker`'s
 * password module; DESIGN.md §6 "secrets stored hashed"). `gen` counts password changes:
 * tokens carry it, so a reset revokes every token issued before.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from '@m2mhub/broker';
import type { KeyValueStore, Store } from '@m2mhub/store';

export const ADMINS_NAMESPACE = 'api.admins';
export const ADMIN_USER = 'admin';
/** Longest user name / password looked at; longer ones fail without hashing. */
export const MAX_USERNAME_LENGTH = 256;
export const MAX_PASSWORD_LENGTH = 1024;

export interface AdminUser {
  username: string;
  passwordHash: string;
  gen: number;
}

export interface BootstrapResult {
  /** Set when this start created the admin with a random password: show it to the operator once. */
  generated?: string;
  /** True when `admin_password` differed from the stored one and replaced it. */
  reset: boolean;
}

// A hash to verify against for unknown users, so the answer time does not tell which names exist.
let dummyHash: Promise<string> | undefined;

export class AdminUsers {
  private readonly kv: KeyValueStore;

  constructor(store: Store) {
    this.kv = store.kv(ADMINS_NAMESPACE);
  }

  async get(username: string): Promise<AdminUser | undefined> {
    if (username.length === 0 || username.length > MAX_USERNAME_LENGTH || username.includes('\u0000')) return undefined;
    const u = await this.kv.get<{ passwordHash: string; gen: number }>(username);
    return u ? { username, passwordHash: u.passwordHash, gen: u.gen } : undefined;
  }

  async setPassword(username: string, password: string): Promise<AdminUser> {
    const prev = await this.get(username);
    const user = { username, passwordHash: await hashPassword(password), gen: (prev?.gen ?? 0) + 1 };
    await this.kv.put(username, { passwordHash: user.passwordHash, gen: user.gen });
    return user;
  }

  /** The user when the password is right; constant work whether or not the user exists. */
  async verify(username: string, password: string): Promise<AdminUser | undefined> {
    if (password.length > MAX_PASSWORD_LENGTH) return undefined;
    const user = await this.get(username);
    if (!user) {
      dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(password, await dummyHash);
      return undefined;
    }
    return (await verifyPassword(password, user.passwordHash)) ? user : undefined;
  }

  /**
   * First start: creates `admin` with `configured` or a random password (returned once).
   * Later starts keep the stored hash unless `configured` is set and differs: then it
   * replaces it (the recovery path for a lost password).
   */
  async bootstrap(configured: string | undefined): Promise<BootstrapResult> {
    const existing = await this.get(ADMIN_USER);
    if (!existing) {
      const password = configured ?? randomBytes(18).toString('base64url');
      await this.setPassword(ADMIN_USER, password);
      return configured === undefined ? { generated: password, reset: false } : { reset: false };
    }
    if (configured !== undefined && !(await verifyPassword(configured, existing.passwordHash))) {
      await this.setPassword(ADMIN_USER, configured);
      return { reset: true };
    }
    return { reset: false };
  }
}
