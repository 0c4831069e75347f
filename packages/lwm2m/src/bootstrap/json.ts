/**
 * The stored JSON form of a BootstrapConfig: opaque key material (PSK, public keys,
 * certificates, private keys) as base64 strings. Pure; parsing bounds what it accepts.
 */
import { ServerErrors } from '../server/errors';
import type { BootstrapConfig, BootstrapServerAccount, SecurityMode } from './config';

/** Limits of `bootstrapConfigFromJson`. */
export interface BootstrapJsonLimits {
  /** Bytes of one decoded key / certificate. */
  maxKeyBytes: number;
  /** Server accounts of one config. */
  maxServers: number;
}
export const DEFAULT_BOOTSTRAP_JSON_LIMITS: BootstrapJsonLimits = { maxKeyBytes: 16_384, maxServers: 16 };

const BYTE_FIELDS = ['pskKey', 'publicKeyOrIdentity', 'serverPublicKey', 'secretKey'] as const;
const MODES: readonly SecurityMode[] = ['psk', 'rpk', 'x509', 'nosec'];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A JSON-serialisable copy of `cfg` (byte fields base64). */
export function bootstrapConfigToJson(cfg: BootstrapConfig): Record<string, unknown> {
  return {
    ...cfg,
    servers: cfg.servers.map((s) => {
      const o: Record<string, unknown> = { ...s };
      for (const f of BYTE_FIELDS) {
        const v = s[f];
        if (v !== undefined) o[f] = Buffer.from(v).toString('base64');
      }
      return o;
    }),
  };
}

/** Parses the stored JSON form; a bad field throws M2M_LWM2M_INVALID_REQUEST naming the field (never its value). */
export function bootstrapConfigFromJson(json: unknown, limits: BootstrapJsonLimits = DEFAULT_BOOTSTRAP_JSON_LIMITS): BootstrapConfig {
  const bad = (what: string) => ServerErrors.invalidRequest(`bootstrap config: ${what}`);
  if (typeof json !== 'object' || json === null) throw bad('not an object');
  const j = json as Record<string, unknown>;
  if (typeof j.endpoint !== 'string' || j.endpoint === '') throw bad('endpoint must be a non-empty string');
  if (!Array.isArray(j.servers) || j.servers.length > limits.maxServers) throw bad(`servers must be an array of at most ${limits.maxServers}`);
  const servers = j.servers.map((raw, i): BootstrapServerAccount => {
    if (typeof raw !== 'object' || raw === null) throw bad(`servers[${i}] not an object`);
    const s = { ...(raw as Record<string, unknown>) };
    if (typeof s.uri !== 'string') throw bad(`servers[${i}].uri must be a string`);
    if (!MODES.includes(s.securityMode as SecurityMode)) throw bad(`servers[${i}].securityMode must be one of ${MODES.join(', ')}`);
    for (const k of ['shortServerId', 'lifetime'] as const) if (!Number.isInteger(s[k])) throw bad(`servers[${i}].${k} must be an integer`);
    if (typeof s.binding !== 'string') throw bad(`servers[${i}].binding must be a string`);
    for (const f of BYTE_FIELDS) {
      const v = s[f];
      if (v === undefined) continue;
      if (typeof v !== 'string' || !BASE64.test(v) || v.length > Math.ceil(limits.maxKeyBytes / 3) * 4) throw bad(`servers[${i}].${f} must be base64 of at most ${limits.maxKeyBytes} bytes`);
      s[f] = new Uint8Array(Buffer.from(v, 'base64'));
    }
    return s as unknown as BootstrapServerAccount;
  });
  for (const k of ['deletes', 'reads'] as const) {
    const v = j[k];
    if (v !== undefined && (!Array.isArray(v) || !v.every((p) => typeof p === 'string'))) throw bad(`${k} must be an array of paths`);
  }
  return { ...(j as unknown as BootstrapConfig), servers };
}
