/**
 * Who is calling (DESIGN.md §4 "Authentication"): Basic auth with an admin user or an API
 * key (`api_key:api_secret`, as EMQX), or a Bearer token from `POST /login`. Password checks
 * (Basic and login) are rate limited per source address; tokens are not (they cannot be
 * guessed). Every failure is a typed `ApiErrors` error; no credential is ever put in one.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '@m2mhub/core';
import type { Store } from '@m2mhub/store';
import { ApiErrors } from '../errors';
import { AdminUsers, MAX_PASSWORD_LENGTH } from './admin-users';
import { ApiKeys } from './api-keys';
import { LoginLimiter, type LoginLimiterOptions } from './rate-limit';
import { signToken, verifyToken } from './token';
import { VerifiedCache, type VerifiedCacheOptions } from './verified-cache';

export const AUTH_NAMESPACE = 'api.auth';

export interface Principal {
  /** `admin`: Basic with an admin user; `token`: Bearer from /login; `api_key`: Basic with an API key. */
  kind: 'admin' | 'token' | 'api_key';
  /** The user name, or the API key's name. */
  name: string;
}

export interface ApiAuthOptions extends LoginLimiterOptions, VerifiedCacheOptions {
  store: Store;
  /** `now()` for the limiter, `wallNow()` for token times. */
  clock: Clock;
  /** Token lifetime in seconds (default 3600). */
  tokenTtlSec?: number;
  /** Most API keys (default 100). */
  maxApiKeys?: number;
}

export class ApiAuth {
  readonly users: AdminUsers;
  readonly keys: ApiKeys;
  readonly limiter: LoginLimiter;
  readonly tokenTtlSec: number;
  private readonly verified: VerifiedCache;

  private lastKeyReload = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly clock: Clock,
    private tokenKey: Uint8Array,
    private readonly opts: ApiAuthOptions,
  ) {
    this.users = new AdminUsers(opts.store);
    this.keys = new ApiKeys(opts.store, opts.maxApiKeys ?? 100, () => clock.wallNow());
    this.limiter = new LoginLimiter(clock, opts);
    this.tokenTtlSec = opts.tokenTtlSec ?? 3600;
    this.verified = new VerifiedCache(clock, opts);
  }

  /**
   * Loads the token signing key from the store (creating it on first start). It lives in
   * the store, not a node's data dir, so a token from one cluster node works on all.
   */
  static async open(opts: ApiAuthOptions): Promise<ApiAuth> {
    const kv = opts.store.kv(AUTH_NAMESPACE);
    let stored = await kv.get<string>('token_key');
    if (stored === undefined || Buffer.from(stored, 'base64').length !== 32) {
      await kv.put('token_key', randomBytes(32).toString('base64'));
      stored = (await kv.get<string>('token_key'))!;
    }
    return new ApiAuth(opts.clock, Buffer.from(stored, 'base64'), opts);
  }

  private nowSec(): number {
    return Math.floor(this.clock.wallNow() / 1000);
  }

  private checkNotBlocked(address: string): void {
    const ms = this.limiter.blockedFor(address);
    if (ms > 0) throw Object.assign(ApiErrors.tooManyAttempts(), { retryAfterSec: Math.ceil(ms / 1000) });
  }

  /**
   * Two cluster nodes starting on an empty store can both create a signing key; the last
   * write wins. A node whose key lost re-reads it (at most once a second) so tokens from the
   * other nodes still verify.
   */
  private async verifyWithReloadedKey(token: string) {
    if (this.clock.now() - this.lastKeyReload < 1000) return undefined;
    this.lastKeyReload = this.clock.now();
    const stored = await this.opts.store.kv(AUTH_NAMESPACE).get<string>('token_key');
    if (stored === undefined) return undefined;
    const key = Buffer.from(stored, 'base64');
    if (key.length !== 32 || key.equals(this.tokenKey)) return undefined;
    this.tokenKey = key;
    return verifyToken(key, token, this.nowSec());
  }

  /** `POST /login`: a Bearer token for an admin user. */
  async login(username: string, password: string, address: string): Promise<{ token: string; expires_in: number }> {
    this.checkNotBlocked(address);
    const user = await this.users.verify(username, password);
    if (!user) {
      this.limiter.fail(address);
      throw ApiErrors.badCredentials();
    }
    const iat = this.nowSec();
    return { token: signToken(this.tokenKey, { sub: user.username, gen: user.gen, iat, exp: iat + this.tokenTtlSec }), expires_in: this.tokenTtlSec };
  }

  /** The caller of a request with this `Authorization` header, or a typed 401/429 error. */
  async authenticate(authorization: string | undefined, address: string): Promise<Principal> {
    if (!authorization) throw ApiErrors.unauthorized();
    const sp = authorization.indexOf(' ');
    const scheme = authorization.slice(0, sp < 0 ? undefined : sp).toLowerCase();
    const value = sp < 0 ? '' : authorization.slice(sp + 1).trim();
    if (scheme === 'bearer') {
      // RFC 6750 §2.1: Authorization: Bearer <token>.
      const claims = verifyToken(this.tokenKey, value, this.nowSec()) ?? (await this.verifyWithReloadedKey(value));
      const user = claims && (await this.users.get(claims.sub));
      if (!claims || !user || user.gen !== claims.gen) throw ApiErrors.badToken();
      return { kind: 'token', name: user.username };
    }
    if (scheme !== 'basic') throw ApiErrors.unauthorized('use Basic or Bearer');
    // RFC 7617 §2: base64(user-id ":" password).
    const decoded = value.length > 4 * MAX_PASSWORD_LENGTH ? '' : Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw ApiErrors.unauthorized('malformed Basic credentials');
    const id = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    this.checkNotBlocked(address);
    const keyName = await this.keys.verify(id, secret);
    if (keyName !== undefined) return { kind: 'api_key', name: keyName };
    const cachedGen = this.verified.get(id, secret);
    if (cachedGen !== undefined) {
      // Still the same password generation: a change since then voids the cached check.
      const u = await this.users.get(id);
      if (u && u.gen === cachedGen) return { kind: 'admin', name: u.username };
    }
    const user = await this.users.verify(id, secret);
    if (user) {
      this.verified.set(id, secret, user.gen);
      return { kind: 'admin', name: user.username };
    }
    this.limiter.fail(address);
    throw ApiErrors.badCredentials();
  }
}
