/**
 * Device credentials per endpoint (DESIGN.md §4, §6): PSK (identity + key), raw public key
 * (SPKI DER) or X.509. Kept in the durable store, PSK keys sealed with `SecretBox`. Backs the
 * DTLS transport's PSK and RPK lookups; each identity is bound to its endpoint, so a device
 * cannot register as another (the LwM2M server answers 4.03).
 */
import { createHash } from 'node:crypto';
import type { KeyValueStore } from '@m2mhub/store';
import { GwErrors } from './errors';
import type { Sealed, SecretBox } from './secret-box';

export type CredentialInput =
  | { psk: { identity: string; key: string } }
  | { rpk: { publicKey: string } }
  | { x509: Record<string, never> };

/** What the API shows: never a key. */
export type CredentialView =
  | { endpoint: string; psk: { identity: string } }
  | { endpoint: string; rpk: { publicKey: string; fingerprint: string } }
  | { endpoint: string; x509: Record<string, never> };

type Stored =
  | { kind: 'psk'; identity: string; key: Sealed }
  | { kind: 'rpk'; publicKey: string; fingerprint: string }
  | { kind: 'x509' };

export interface CredentialLimits {
  /** Longest PSK identity (bytes); RFC 4279 §5.1 allows 2^16-1, LwM2M devices use far less. */
  maxIdentityBytes: number;
  /** Longest PSK (bytes). */
  maxKeyBytes: number;
  /** Largest SPKI DER (bytes). */
  maxPublicKeyBytes: number;
}

export const DEFAULT_CREDENTIAL_LIMITS: CredentialLimits = { maxIdentityBytes: 128, maxKeyBytes: 64, maxPublicKeyBytes: 1024 };

const enc = (s: string): string => encodeURIComponent(s);

export class CredentialStore {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly box: SecretBox,
    private readonly limits: CredentialLimits = DEFAULT_CREDENTIAL_LIMITS,
  ) {}

  /** Validates and stores; replaces the endpoint's previous credential. Throws M2M_LWGW_BAD_CREDENTIAL. */
  async put(endpoint: string, input: unknown): Promise<CredentialView> {
    if (typeof endpoint !== 'string' || endpoint === '' || Buffer.byteLength(endpoint) > 256) throw GwErrors.badCredential('endpoint name');
    const cred = this.validate(input);
    const old = await this.kv.get<Stored>(`ep/${enc(endpoint)}`);
    const ops: Parameters<KeyValueStore['batch']>[0] = [];
    if (old?.kind === 'psk') ops.push({ type: 'del', key: `psk/${enc(old.identity)}` });
    if (old?.kind === 'rpk') ops.push({ type: 'del', key: `rpk/${old.fingerprint}` });
    let stored: Stored;
    if ('psk' in cred) {
      const owner = await this.kv.get<string>(`psk/${enc(cred.psk.identity)}`);
      if (owner !== undefined && owner !== endpoint) throw GwErrors.badCredential(`PSK identity already bound to another endpoint`);
      stored = { kind: 'psk', identity: cred.psk.identity, key: this.box.seal(Buffer.from(cred.psk.key, 'hex'), endpoint) };
      ops.push({ type: 'put', key: `psk/${enc(cred.psk.identity)}`, value: endpoint });
    } else if ('rpk' in cred) {
      const der = Buffer.from(cred.rpk.publicKey, 'base64');
      const fingerprint = createHash('sha256').update(der).digest('hex');
      stored = { kind: 'rpk', publicKey: der.toString('base64'), fingerprint };
      ops.push({ type: 'put', key: `rpk/${fingerprint}`, value: endpoint });
    } else stored = { kind: 'x509' };
    ops.push({ type: 'put', key: `ep/${enc(endpoint)}`, value: stored });
    await this.kv.batch(ops);
    return view(endpoint, stored);
  }

  async get(endpoint: string): Promise<CredentialView | undefined> {
    const s = await this.kv.get<Stored>(`ep/${enc(endpoint)}`);
    return s ? view(endpoint, s) : undefined;
  }

  async delete(endpoint: string): Promise<boolean> {
    const old = await this.kv.get<Stored>(`ep/${enc(endpoint)}`);
    if (!old) return false;
    const ops: Parameters<KeyValueStore['batch']>[0] = [{ type: 'del', key: `ep/${enc(endpoint)}` }];
    if (old.kind === 'psk') ops.push({ type: 'del', key: `psk/${enc(old.identity)}` });
    if (old.kind === 'rpk') ops.push({ type: 'del', key: `rpk/${old.fingerprint}` });
    await this.kv.batch(ops);
    return true;
  }

  async list(options: { after?: string; limit?: number } = {}): Promise<CredentialView[]> {
    const page = await this.kv.list<Stored>({ prefix: 'ep/', limit: options.limit ?? 100, ...(options.after ? { after: `ep/${enc(options.after)}` } : {}) });
    return page.map((e) => view(decodeURIComponent(e.key.slice(3)), e.value));
  }

  /** The DTLS PskStore port: identity -> key and bound endpoint. */
  async lookupPsk(identity: string): Promise<{ key: Uint8Array; endpoint: string } | undefined> {
    if (Buffer.byteLength(identity) > this.limits.maxIdentityBytes) return undefined;
    const endpoint = await this.kv.get<string>(`psk/${enc(identity)}`);
    if (endpoint === undefined) return undefined;
    const s = await this.kv.get<Stored>(`ep/${enc(endpoint)}`);
    if (s?.kind !== 'psk' || s.identity !== identity) return undefined;
    return { key: this.box.open(s.key, endpoint), endpoint };
  }

  /** The DTLS RpkStore port: SPKI SHA-256 fingerprint -> bound endpoint. */
  async lookupRpk(fingerprintHex: string): Promise<{ endpoint: string } | undefined> {
    if (!/^[0-9a-f]{64}$/.test(fingerprintHex)) return undefined;
    const endpoint = await this.kv.get<string>(`rpk/${fingerprintHex}`);
    return endpoint === undefined ? undefined : { endpoint };
  }

  private validate(input: unknown): CredentialInput {
    const bad = (m: string): never => {
      throw GwErrors.badCredential(m);
    };
    if (typeof input !== 'object' || input === null) return bad('body must be {"psk":{...}}, {"rpk":{...}} or {"x509":{}}');
    const o = input as Record<string, unknown>;
    const kinds = ['psk', 'rpk', 'x509'].filter((k) => o[k] !== undefined);
    if (kinds.length !== 1) return bad('exactly one of psk, rpk, x509');
    if (o.psk !== undefined) {
      const p = o.psk as Record<string, unknown>;
      if (typeof p?.identity !== 'string' || p.identity === '' || Buffer.byteLength(p.identity) > this.limits.maxIdentityBytes) {
        bad(`psk.identity must be 1..${this.limits.maxIdentityBytes} bytes`);
      }
      if (typeof p.key !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(p.key) || p.key.length / 2 > this.limits.maxKeyBytes) {
        bad(`psk.key must be hex, 1..${this.limits.maxKeyBytes} bytes`);
      }
      return { psk: { identity: p.identity as string, key: (p.key as string).toLowerCase() } };
    }
    if (o.rpk !== undefined) {
      const r = o.rpk as Record<string, unknown>;
      if (typeof r?.publicKey !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(r.publicKey)) bad('rpk.publicKey must be base64 SPKI DER');
      const der = Buffer.from(r.publicKey as string, 'base64');
      // An SPKI is a DER SEQUENCE (RFC 5280 §4.1.2.7).
      if (der.length < 16 || der.length > this.limits.maxPublicKeyBytes || der[0] !== 0x30) bad('rpk.publicKey is not an SPKI DER');
      return { rpk: { publicKey: r.publicKey as string } };
    }
    if (typeof o.x509 !== 'object' || o.x509 === null) bad('x509 must be an object');
    return { x509: {} };
  }
}

function view(endpoint: string, s: Stored): CredentialView {
  if (s.kind === 'psk') return { endpoint, psk: { identity: s.identity } };
  if (s.kind === 'rpk') return { endpoint, rpk: { publicKey: s.publicKey, fingerprint: s.fingerprint } };
  return { endpoint, x509: {} };
}
