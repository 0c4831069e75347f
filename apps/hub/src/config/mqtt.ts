/** The `mqtt` config section: listeners, authentication, ACL and limits (DESIGN.md §1, §6). */
import type { AclRule } from '@m2mhub/broker';
import { bool, filePath, host, int, json, oneOf, port, urlPath } from './schema';

/** A user from the config: `password` (hashed at start-up, never stored) or `password_hash` (scrypt$...). */
export interface ConfigUser {
  username: string;
  password?: string;
  password_hash?: string;
}

const USERS_ALLOWED = 'a list of {"username": "...", "password": "..."} or {"username": "...", "password_hash": "scrypt$..."}';

function checkUsers(v: unknown): ConfigUser[] {
  if (!Array.isArray(v) || v.length > 10_000) throw new Error(USERS_ALLOWED);
  const seen = new Set<string>();
  return v.map((u) => {
    if (typeof u !== 'object' || u === null) throw new Error(USERS_ALLOWED);
    const { username, password, password_hash, ...rest } = u as Record<string, unknown>;
    if (Object.keys(rest).length > 0 || typeof username !== 'string' || username === '' || username.length > 256) throw new Error(USERS_ALLOWED);
    if ((typeof password === 'string') === (typeof password_hash === 'string')) throw new Error(`${USERS_ALLOWED} (exactly one of password, password_hash)`);
    if (seen.has(username)) throw new Error(`${USERS_ALLOWED} (user ${username} listed twice)`);
    seen.add(username);
    const out: ConfigUser = { username };
    if (typeof password === 'string') out.password = password;
    if (typeof password_hash === 'string') out.password_hash = password_hash;
    return out;
  });
}

const ACL_ALLOWED =
  'a list of {"permission": "allow"|"deny", "action": "publish"|"subscribe"|"all", "topics": ["filter", ...], "username"?: "...", "clientid"?: "..."}';

function checkRules(v: unknown): AclRule[] {
  if (!Array.isArray(v) || v.length > 10_000) throw new Error(ACL_ALLOWED);
  return v.map((r) => {
    if (typeof r !== 'object' || r === null) throw new Error(ACL_ALLOWED);
    const { permission, action, topics, username, clientid, ...rest } = r as Record<string, unknown>;
    const ok =
      Object.keys(rest).length === 0 &&
      (permission === 'allow' || permission === 'deny') &&
      (action === 'publish' || action === 'subscribe' || action === 'all') &&
      Array.isArray(topics) &&
      topics.length > 0 &&
      topics.every((t) => typeof t === 'string' && t.length > 0 && t.length < 65536) &&
      (username === undefined || typeof username === 'string') &&
      (clientid === undefined || typeof clientid === 'string');
    if (!ok) throw new Error(ACL_ALLOWED);
    const rule: AclRule = { permission, action, topics: topics as string[] };
    if (typeof username === 'string') rule.username = username;
    if (typeof clientid === 'string') rule.clientid = clientid;
    return rule;
  });
}

export const mqttSection = {
  tcp: {
    enabled: bool(true, 'MQTT over TCP listener on'),
    port: port(1883, 'MQTT over TCP port'),
    bind: host('0.0.0.0', 'MQTT over TCP bind address'),
  },
  tls: {
    port: port(8883, 'MQTT over TLS port (on when mqtt.tls.cert and mqtt.tls.key are set)'),
    bind: host('0.0.0.0', 'MQTT over TLS bind address'),
    cert: filePath('PEM certificate (chain) file for MQTT/TLS and WSS'),
    key: filePath('PEM private key file for MQTT/TLS and WSS'),
    ca: filePath('PEM CA bundle to verify client certificates (optional)'),
  },
  ws: {
    enabled: bool(true, 'MQTT over WebSocket listener on'),
    port: port(8083, 'MQTT over WebSocket port'),
    bind: host('0.0.0.0', 'MQTT over WebSocket bind address'),
    path: urlPath('/mqtt', 'MQTT over WebSocket path'),
  },
  wss: {
    port: port(8084, 'MQTT over secure WebSocket port (on when mqtt.tls.cert and mqtt.tls.key are set)'),
    bind: host('0.0.0.0', 'MQTT over secure WebSocket bind address'),
    path: urlPath('/mqtt', 'MQTT over secure WebSocket path'),
  },
  auth: {
    enabled: bool(false, 'require a user name and password (anonymous clients allowed when off)'),
    allow_anonymous: bool(false, 'with auth on, also let clients without a user name connect'),
    users: json<ConfigUser[]>([], 'built-in MQTT users (written to the store at start-up, passwords hashed with scrypt)', USERS_ALLOWED, checkUsers),
  },
  acl: {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: EMQX placeholder syntax in a description
    rules: json<AclRule[]>([], 'ACL rules, first match wins; topics may use ${username} and ${clientid}', ACL_ALLOWED, checkRules),
    no_match: oneOf(['allow', 'deny'] as const, 'allow', 'decision when no ACL rule matches'),
    deny_action: oneOf(['ignore', 'disconnect'] as const, 'ignore', 'a denied publish is acknowledged and dropped (ignore) or closes the connection'),
  },
  limits: {
    max_connections: int(100_000, 1, 10_000_000, 'MQTT connections at once over all listeners'),
    max_packet_size: int(1024 * 1024, 64, 268_435_455, 'largest MQTT packet in bytes; a client sending more is disconnected'),
    max_inflight: int(1000, 1, 65535, 'inbound QoS 2 messages per client awaiting PUBREL (also packets pipelined before CONNECT is processed)'),
    max_queued: int(1000, 1, 10_000_000, 'messages one persistent session holds (queued offline + awaiting ack); more are dropped for it'),
    max_clientid_len: int(65535, 23, 65535, 'longest client identifier'),
    connect_timeout: int(30_000, 100, 3_600_000, 'ms a connection may take to send CONNECT'),
    max_keepalive: int(0, 0, 65535, 'largest keep-alive in seconds a client may ask for (0: any)'),
  },
  sys_interval: int(10, 0, 86_400, 'seconds between $SYS/broker/... statistics (0: off)'),
};
