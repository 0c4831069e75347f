/**
 * API keys (DESIGN.md §4, EMQX's `/api_key`): a generated `api_key` id and `api_secret`, used
 * as Basic auth `api_key:api_secret`. The secret is shown once and stored as a salted
 * SHA-256: it is 256 random bits, so a slow hash would add nothing but per-request cost.
 * Stored as `name:<name>` -> record and `key:<api_key>` -> name, written in one batch.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyValueStore, Store } from '@m2mhub/store';
import { ApiErrors } from '../errors';

export const API_KEYS_NAMESPACE = 'api.keys';
export const API_KEY_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export interface ApiKeyInfo {
  name: string;
  api_key: string;
  created_at: string;
}

interface StoredKey extends ApiKeyInfo {
  salt: string;
  secretHash: string;
}

function hashSecret(salt: string, secret: string): Buffer {
  return createHash('sha256').update(salt).update('\u0000').update(secret).digest();
}

export class ApiKeys {
  private readonly kv: KeyValueStore;

  constructor(
    store: Store,
    private readonly maxKeys: number,
    private readonly wallNow: () => number,
  ) {
    this.kv = store.kv(API_KEYS_NAMESPACE);
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.kv.list<StoredKey>({ prefix: 'name:', limit: this.maxKeys });
    return rows.map(({ value: v }) => ({ name: v.name, api_key: v.api_key, created_at: v.created_at }));
  }

  async create(name: string): Promise<ApiKeyInfo & { api_secret: string }> {
    if (await this.kv.get(`name:${name}`)) throw ApiErrors.apiKeyExists(name);
    if ((await this.kv.list({ prefix: 'name:', limit: this.maxKeys })).length >= this.maxKeys) throw ApiErrors.tooManyApiKeys();
    const api_key = randomBytes(8).toString('hex');
    const api_secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16).toString('base64');
    const rec: StoredKey = { name, api_key, created_at: new Date(this.wallNow()).toISOString(), salt, secretHash: hashSecret(salt, api_secret).toString('base64') };
    await this.kv.batch([
      { type: 'put', key: `name:${name}`, value: rec },
      { type: 'put', key: `key:${api_key}`, value: name },
    ]);
    return { name, api_key, created_at: rec.created_at, api_secret };
  }

  async delete(name: string): Promise<void> {
    const rec = await this.kv.get<StoredKey>(`name:${name}`);
    if (!rec) throw ApiErrors.apiKeyNotFound(name);
    await this.kv.batch([
      { type: 'del', key: `name:${name}` },
      { type: 'del', key: `key:${rec.api_key}` },
    ]);
  }

  /** The key's name when `api_key:api_secret` is right. */
  async verify(apiKey: string, secret: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{16}$/.test(apiKey) || secret.length > 256) return undefined;
    const name = await this.kv.get<string>(`key:${apiKey}`);
    const rec = name === undefined ? undefined : await this.kv.get<StoredKey>(`name:${name}`);
    if (!rec || rec.api_key !== apiKey) return undefined;
    const want = Buffer.from(rec.secretHash, 'base64');
    const got = hashSecret(rec.salt, secret);
    return want.length === got.length && timingSafeEqual(want, got) ? rec.name : undefined;
  }
}
