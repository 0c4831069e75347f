/**
 * The LwM2M gateway's config, with EMQX's key names (`gateway.lwm2m.*`) and m2mhub's
 * defaults (DESIGN.md §3). Durations accept seconds as a number or EMQX duration strings
 * ("93s", "500ms", "5m", "1h", "1d").
 */
import { DEFAULT_LIMITS, type DtlsLimits } from '@m2mhub/dtls';
import { checkTemplate, type QoS } from '@m2mhub/gateway';
import { GwErrors } from './errors';

export interface Translator {
  topic: string;
  qos: QoS;
}

export type TranslatorName = 'command' | 'response' | 'notify' | 'register' | 'update' | 'send' | 'event';

export interface ListenerConfig {
  enable: boolean;
  bind: string;
  port: number;
  /** Socket receive buffer, bytes: a burst of datagrams beyond it is dropped by the OS (and retransmitted seconds later). */
  recbuf: number;
  /** Socket send buffer, bytes. */
  sndbuf: number;
}

/**
 * The DTLS listener: a ListenerConfig plus the server's certificate or raw public key and the
 * trust anchors for client certificates (EMQX's `dtls_options` names). Empty means not set.
 */
export interface DtlsListenerConfig extends ListenerConfig {
  /** PEM certificate chain (leaf first) the server presents; needs `keyfile`. */
  certfile: string;
  /** PEM P-256 private key of the server; alone, the server presents a raw public key (RFC 7250). */
  keyfile: string;
  /** PEM bundle of trusted roots for client certificates (CN = endpoint name). */
  cacertfile: string;
  /** Issue #4: handshakes in progress at once (after the cookie round trip, RFC 6347 §4.2.1). */
  max_handshakes: number;
  /** Issue #4: established DTLS sessions in total (beyond it the least recently active is evicted). */
  max_sessions: number;
  /** Issue #4: seconds a handshake may take before it is abandoned (RFC 6347 §4.2.4 leaves it to us). */
  handshake_timeout: number;
  /** Issue #4: seconds without an authenticated record after which a session is forgotten. */
  idle_timeout: number;
}

/** The `lwm2m.dtls` limit keys with their ranges (integers; timeouts in seconds). */
export const DTLS_LIMIT_RANGES = {
  max_handshakes: [1, 1_000_000],
  max_sessions: [1, 10_000_000],
  handshake_timeout: [1, 3600],
  idle_timeout: [1, 30 * 86400],
} as const;

export interface Lwm2mGatewayConfig {
  enable: boolean;
  mountpoint: string;
  translators: Record<TranslatorName, Translator>;
  /** Extra OMA object XML files (`*.xml`) loaded on top of the built-in registry. */
  xml_dir: string;
  /** Largest object XML accepted by the objects API and read from xml_dir, bytes. */
  max_object_xml_size: number;
  /** Most objects (id + version) uploaded through the objects API. */
  max_user_objects: number;
  /** Seconds; a registration's `lt` is clamped into [lifetime_min, lifetime_max]. */
  lifetime_min: number;
  lifetime_max: number;
  /** Seconds a queue-mode device stays reachable after its last message (LwM2M Core §6.5). */
  qmode_time_window: number;
  /** false, true, or a list of paths to observe on registration. */
  auto_observe: boolean | string[];
  update_msg_publish_condition: 'contains_object_list' | 'always';
  /** Commands waiting for one sleeping device. */
  max_queue_length: number;
  /** Seconds a queued command stays valid. */
  queue_ttl: number;
  /** Seconds a command waits for the device's answer (CoAP exchange, all retransmissions). */
  request_timeout: number;
  /** Largest accepted JSON command, bytes. */
  max_command_size: number;
  /** Commands being executed at once for one awake device; more wait in its queue. */
  max_inflight: number;
  /** Remembered message ids (or topic+payload digests) for dropping duplicates delivered by overlapping subscriptions. */
  dedupe_window: number;
  /** Seconds within which two messages without a broker id and with the same topic and payload are one. */
  dedupe_interval: number;
  /** Cluster (docs/mqtt-api.md): seconds between two heartbeats of this node in the shared store. */
  cluster_heartbeat: number;
  /** Cluster: seconds without a heartbeat after which a node is gone (its devices' commands get 5.03). */
  cluster_node_timeout: number;
  /** Cluster: seconds a one-answer claim on a command (4.04/5.03 from exactly one node) is kept. */
  cluster_claim_ttl: number;
  /** Last replies kept per device for the API's lookup (EMQX: 100). */
  max_recorded_results: number;
  /** Registrations kept in memory in front of the store (every device request looks one up). */
  registration_cache: number;
  /** Longest PSK identity accepted by the credentials API, bytes. */
  psk_identity_max: number;
  /** Longest PSK accepted by the credentials API, bytes. */
  psk_key_max: number;
  /** Registration query parameters never published (secrets). */
  sensitive_params: string[];
  udp: ListenerConfig;
  dtls: DtlsListenerConfig;
  /** Refuse plain UDP registrations (DESIGN.md §6 `lwm2m.require_security`). */
  require_security: boolean;
}

export function defaultConfig(): Lwm2mGatewayConfig {
  return {
    enable: true,
    mountpoint: '',
    translators: {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an EMQX topic placeholder, not a JS template
      command: { topic: 'dn/${endpoint_name}/#', qos: 0 },
      response: { topic: 'up/resp', qos: 0 },
      notify: { topic: 'up/notify', qos: 0 },
      register: { topic: 'up/register', qos: 0 },
      update: { topic: 'up/update', qos: 0 },
      send: { topic: 'up/send', qos: 0 },
      event: { topic: 'up/event', qos: 0 },
    },
    xml_dir: '',
    max_object_xml_size: 1024 * 1024,
    max_user_objects: 1000,
    lifetime_min: 1,
    lifetime_max: 86400,
    qmode_time_window: 93,
    auto_observe: true,
    update_msg_publish_condition: 'contains_object_list',
    max_queue_length: 100,
    queue_ttl: 86400,
    request_timeout: 93,
    max_command_size: 65536,
    max_inflight: 1,
    dedupe_window: 4096,
    dedupe_interval: 1,
    cluster_heartbeat: 5,
    cluster_node_timeout: 20,
    cluster_claim_ttl: 60,
    registration_cache: 100_000,
    max_recorded_results: 100,
    psk_identity_max: 128,
    psk_key_max: 64,
    sensitive_params: ['password', 'pwd', 'secret', 'token', 'psk', 'key', 'passwd', 'credential', 'apikey'],
    udp: { enable: true, bind: '0.0.0.0', port: 5783, recbuf: 4 * 1024 * 1024, sndbuf: 4 * 1024 * 1024 },
    dtls: {
      enable: true,
      bind: '0.0.0.0',
      port: 5784,
      recbuf: 4 * 1024 * 1024,
      sndbuf: 4 * 1024 * 1024,
      certfile: '',
      keyfile: '',
      cacertfile: '',
      // The @m2mhub/dtls defaults (DEFAULT_LIMITS), in this config's units.
      max_handshakes: DEFAULT_LIMITS.maxHandshakes,
      max_sessions: DEFAULT_LIMITS.maxSessions,
      handshake_timeout: DEFAULT_LIMITS.handshakeTimeoutMs / 1000,
      idle_timeout: DEFAULT_LIMITS.idleTimeoutMs / 1000,
    },
    require_security: false,
  };
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds from a number (seconds) or an EMQX duration string. */
export function parseDuration(key: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
    if (m) return Number(m[1]) * UNITS[m[2] ?? 's']!;
  }
  throw GwErrors.badConfig(`${key}=${JSON.stringify(v)}: expected seconds or a duration like "93s"`);
}

function bad(key: string, v: unknown, allowed: string): never {
  throw GwErrors.badConfig(`${key}=${JSON.stringify(v)}: ${allowed}`);
}

function int(key: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) bad(key, v, `an integer in [${min}, ${max}]`);
  return n;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'on') return true;
  if (v === 'false' || v === 'off') return false;
  return bad(key, v, 'true or false');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const PKI_FILE_KEYS = ['certfile', 'keyfile', 'cacertfile'] as const;

function listener<L extends ListenerConfig>(key: string, base: L, raw: unknown): L {
  if (raw === undefined) return base;
  if (!isRecord(raw)) bad(key, raw, 'an object');
  const out = { ...base };
  for (const [k, v] of Object.entries(raw)) {
    if ((PKI_FILE_KEYS as readonly string[]).includes(k) && k in base) {
      if (typeof v !== 'string' || v.length > 4096 || v.includes('\u0000')) bad(`${key}.${k}`, v, 'a file path');
      (out as unknown as Record<string, string>)[k] = v;
    } else if (k in DTLS_LIMIT_RANGES && k in base) {
      const [min, max] = DTLS_LIMIT_RANGES[k as keyof typeof DTLS_LIMIT_RANGES];
      const n = k.endsWith('_timeout') ? parseDuration(`${key}.${k}`, v) : int(`${key}.${k}`, v, min, max);
      if (n < min || n > max) bad(`${key}.${k}`, v, `a duration from ${min} s to ${max} s`);
      (out as unknown as Record<string, number>)[k] = n;
    } else if (k === 'enable' || k === 'enabled') out.enable = bool(`${key}.${k}`, v);
    else if (k === 'bind') out.bind = typeof v === 'string' ? v : bad(`${key}.bind`, v, 'an address');
    else if (k === 'port') out.port = int(`${key}.port`, v, 0, 65535);
    else if (k === 'recbuf' || k === 'sndbuf') out[k] = int(`${key}.${k}`, v, 4096, 256 * 1024 * 1024);
    else bad(`${key}.${k}`, v, 'unknown key');
  }
  return out;
}

/** Validates user config (a partial object with EMQX's keys) over the defaults. */
export function parseConfig(raw: unknown): Lwm2mGatewayConfig {
  const c = defaultConfig();
  if (raw === undefined || raw === null) return c;
  if (!isRecord(raw)) bad('lwm2m', raw, 'an object');
  for (const [k, v] of Object.entries(raw)) {
    const key = `lwm2m.${k}`;
    switch (k) {
      case 'enable':
      case 'enabled':
        c.enable = bool(key, v);
        break;
      case 'require_security':
        c[k] = bool(key, v);
        break;
      case 'mountpoint':
        if (typeof v !== 'string') bad(key, v, 'a topic prefix');
        checkTemplate(v);
        c.mountpoint = v;
        break;
      case 'xml_dir':
        if (typeof v !== 'string') bad(key, v, 'a directory');
        c.xml_dir = v;
        break;
      case 'lifetime_min':
      case 'lifetime_max':
      case 'qmode_time_window':
      case 'queue_ttl':
      case 'request_timeout':
      case 'dedupe_interval':
      case 'cluster_claim_ttl':
        c[k] = parseDuration(key, v);
        break;
      case 'cluster_heartbeat':
      case 'cluster_node_timeout':
        c[k] = parseDuration(key, v);
        if (c[k] <= 0) bad(key, v, 'a duration above 0');
        break;
      case 'max_queue_length':
        c[k] = int(key, v, 0, 1_000_000);
        break;
      case 'max_object_xml_size':
        c[k] = int(key, v, 1024, 16 * 1024 * 1024);
        break;
      case 'max_user_objects':
        c[k] = int(key, v, 0, 100_000);
        break;
      case 'max_inflight':
        c[k] = int(key, v, 1, 1024);
        break;
      case 'dedupe_window':
        c[k] = int(key, v, 0, 1_000_000);
        break;
      case 'registration_cache':
        c[k] = int(key, v, 0, 10_000_000);
        break;
      case 'max_recorded_results':
        c[k] = int(key, v, 0, 10_000);
        break;
      case 'psk_identity_max':
        c[k] = int(key, v, 1, 65535);
        break;
      case 'psk_key_max':
        c[k] = int(key, v, 1, 1024);
        break;
      case 'max_command_size':
        c[k] = int(key, v, 64, 16 * 1024 * 1024);
        break;
      case 'auto_observe':
        if (typeof v === 'boolean' || v === 'true' || v === 'false' || v === 'on' || v === 'off') c.auto_observe = bool(key, v);
        else if (typeof v === 'string') c.auto_observe = v.split(',').map((s) => s.trim()).filter(Boolean);
        else if (Array.isArray(v) && v.every((p) => typeof p === 'string')) c.auto_observe = v as string[];
        else bad(key, v, 'true, false or a list of paths');
        break;
      case 'update_msg_publish_condition':
        if (v !== 'contains_object_list' && v !== 'always') bad(key, v, '"contains_object_list" or "always"');
        c.update_msg_publish_condition = v;
        break;
      case 'sensitive_params':
        if (!Array.isArray(v) || !v.every((p) => typeof p === 'string')) bad(key, v, 'a list of names');
        c.sensitive_params = (v as string[]).map((s) => s.toLowerCase());
        break;
      case 'translators':
        if (!isRecord(v)) bad(key, v, 'an object');
        for (const [name, t] of Object.entries(v)) {
          if (!(name in c.translators)) bad(`${key}.${name}`, t, `one of ${Object.keys(c.translators).join(', ')}`);
          const cur = c.translators[name as TranslatorName];
          if (!isRecord(t)) bad(`${key}.${name}`, t, 'an object {topic, qos}');
          if (t.topic !== undefined) {
            if (typeof t.topic !== 'string' || t.topic === '') bad(`${key}.${name}.topic`, t.topic, 'a topic');
            checkTemplate(t.topic);
            if (name !== 'command' && /[+#]/.test(t.topic)) bad(`${key}.${name}.topic`, t.topic, 'a topic without wildcards');
            cur.topic = t.topic;
          }
          if (t.qos !== undefined) cur.qos = int(`${key}.${name}.qos`, t.qos, 0, 2) as QoS;
        }
        break;
      case 'udp':
        c.udp = listener(key, c.udp, v);
        break;
      case 'dtls':
        c.dtls = listener(key, c.dtls, v);
        if (c.dtls.certfile && !c.dtls.keyfile) bad(`${key}.keyfile`, c.dtls.keyfile, 'the private key of dtls.certfile (a PEM file)');
        break;
      default:
        bad(key, v, 'unknown key');
    }
  }
  if (c.cluster_node_timeout <= c.cluster_heartbeat) {
    bad('lwm2m.cluster_node_timeout', c.cluster_node_timeout, `more than cluster_heartbeat (${c.cluster_heartbeat} s)`);
  }
  if (c.lifetime_min > c.lifetime_max) bad('lwm2m.lifetime_min', c.lifetime_min, `at most lifetime_max (${c.lifetime_max})`);
  return c;
}

/** LwM2M Core §6.2.1: clamp the registration lifetime (`lt`, default 86400) into the configured bounds. */
export function clampLifetime(lt: number | undefined, cfg: Pick<Lwm2mGatewayConfig, 'lifetime_min' | 'lifetime_max'>): number {
  const v = lt === undefined || lt <= 0 ? 86400 : lt;
  return Math.min(cfg.lifetime_max, Math.max(cfg.lifetime_min, v));
}

/** The DTLS transport's limits (issue #4) from the `lwm2m.dtls` keys: seconds become milliseconds. */
export function dtlsLimits(c: DtlsListenerConfig): Partial<DtlsLimits> {
  return {
    maxHandshakes: c.max_handshakes,
    maxSessions: c.max_sessions,
    handshakeTimeoutMs: Math.round(c.handshake_timeout * 1000),
    idleTimeoutMs: Math.round(c.idle_timeout * 1000),
  };
}
