/**
 * The `lwm2m` config section (DESIGN.md §1, §3): the listeners, and EMQX's LwM2M gateway keys
 * (`mountpoint`, `translators`, `xml_dir`, `lifetime_min`/`max`, `qmode_time_window`,
 * `auto_observe`, `update_msg_publish_condition`) with m2mhub's defaults and queue limits.
 */
import { checkTemplate } from '@m2mhub/gateway';
import { DTLS_LIMIT_RANGES, defaultConfig, parseDuration } from '@m2mhub/gateway-lwm2m';
import { bool, type Field, filePath, host, int, oneOf, optional, port, str } from './schema';

const gw = defaultConfig();

/** A field whose raw value is used as is (file value, or the environment/flag string). */
function field<T>(def: T, description: string, allowed: string, parse: (raw: unknown) => T): Field<T> {
  return {
    kind: 'field',
    default: def,
    description,
    allowed,
    parse(raw) {
      try {
        return parse(raw);
      } catch {
        throw new Error(allowed);
      }
    },
  };
}

/** Seconds, from a number or an EMQX duration string ("93s", "500ms", "5m", "1h", "1d"). */
export function duration(def: number, description: string): Field<number> {
  return field(def, description, 'seconds or a duration like "93s", "5m", "1h"', (v) => {
    const n = typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
    return parseDuration('value', n);
  });
}

function topicTemplate(def: string, description: string, wildcards: boolean): Field<string> {
  const allowed = `a topic${wildcards ? ' filter' : ' without wildcards'}; placeholders ${'$'}{endpoint_name}, ${'$'}{clientid}, ${'$'}{username}`;
  return field(def, description, allowed, (v) => {
    if (typeof v !== 'string' || v.length > 1024 || v.includes('\u0000')) throw new Error(allowed);
    if (!wildcards && /[+#]/.test(v)) throw new Error(allowed);
    checkTemplate(v);
    return v;
  });
}

function translator(name: keyof typeof gw.translators, what: string) {
  const t = gw.translators[name];
  return {
    topic: topicTemplate(t.topic, `${what} (after the mountpoint)`, name === 'command'),
    qos: int(t.qos, 0, 2, `QoS of ${name} messages`),
  };
}

export const lwm2mSection = {
  udp: {
    enabled: bool(true, 'LwM2M over CoAP/UDP listener on'),
    port: port(5783, 'LwM2M over CoAP/UDP port'),
    bind: host('0.0.0.0', 'LwM2M over CoAP/UDP bind address'),
  },
  dtls: {
    enabled: bool(true, 'LwM2M over CoAP/DTLS 1.2 listener on'),
    port: port(5784, 'LwM2M over CoAP/DTLS port'),
    bind: host('0.0.0.0', 'LwM2M over CoAP/DTLS bind address'),
    certfile: filePath('PEM certificate chain (leaf first) the DTLS server presents; needs keyfile'),
    keyfile: filePath('PEM P-256 private key of the DTLS server; alone, the server presents a raw public key (RFC 7250); unset: PSK suites only'),
    cacertfile: filePath('PEM bundle of trusted roots for client certificates (the certificate CN is the endpoint name)'),
    // Issue #4: the DTLS server's limits, defaults from @m2mhub/dtls (through the gateway's defaults).
    max_handshakes: int(gw.dtls.max_handshakes, ...DTLS_LIMIT_RANGES.max_handshakes, 'DTLS handshakes in progress at once (counted after the cookie round trip); more ClientHellos are ignored'),
    max_sessions: int(gw.dtls.max_sessions, ...DTLS_LIMIT_RANGES.max_sessions, 'DTLS sessions in total; a new one beyond it evicts the least recently active'),
    handshake_timeout: duration(gw.dtls.handshake_timeout, 'a DTLS handshake not finished after this long is abandoned'),
    idle_timeout: duration(gw.dtls.idle_timeout, 'a DTLS session without a record for this long is forgotten'),
  },
  require_security: bool(false, 'refuse LwM2M registrations over plain UDP'),
  mountpoint: topicTemplate(gw.mountpoint, 'prefix of every LwM2M gateway topic (EMQX uses lwm2m/ + the endpoint name placeholder + /)', false),
  translators: {
    command: translator('command', 'topic filter the gateway takes commands from'),
    response: translator('response', 'replies to commands, ack, coap_timeout, errors'),
    notify: translator('notify', 'observe notifications'),
    register: translator('register', 'registrations'),
    update: translator('update', 'registration updates'),
    send: translator('send', 'LwM2M 1.1 Send data'),
    event: translator('event', 'deregister, expired, replaced, kicked, sleeping, awake'),
  },
  xml_dir: optional('directory of extra OMA object XML files', { allowed: 'a directory path', check: (s) => !s.includes('\u0000') }),
  max_object_xml_size: int(gw.max_object_xml_size, 1024, 16 * 1024 * 1024, 'largest object XML accepted by POST /api/v5/gateways/lwm2m/objects and read from xml_dir, bytes'),
  max_user_objects: int(gw.max_user_objects, 0, 100_000, 'most objects (id and version) uploaded through the objects API'),
  lifetime_min: duration(gw.lifetime_min, 'shortest registration lifetime accepted'),
  lifetime_max: duration(gw.lifetime_max, 'longest registration lifetime accepted'),
  qmode_time_window: duration(gw.qmode_time_window, 'how long a queue-mode device stays reachable after its last message'),
  auto_observe: field<boolean | string[]>(gw.auto_observe, 'observe registered object instances on registration', 'true, false or a list of paths (JSON array or comma-separated)', (raw) => {
    let v = raw;
    if (typeof raw === 'string') {
      const t = raw.trim();
      v = t === 'true' || t === 'false' || t.startsWith('[') ? JSON.parse(t) : t.split(',').map((p) => p.trim()).filter(Boolean);
    }
    if (typeof v === 'boolean') return v;
    if (Array.isArray(v) && v.every((p) => typeof p === 'string' && /^\/\d+(\/\d+){0,3}$/.test(p)) && v.length <= 256) return v as string[];
    throw new Error('bad auto_observe');
  }),
  update_msg_publish_condition: oneOf(['contains_object_list', 'always'] as const, gw.update_msg_publish_condition, 'when an update is published on the update topic'),
  max_queue_length: int(gw.max_queue_length, 0, 1_000_000, 'commands waiting per device (sleeping or busy)'),
  queue_ttl: duration(gw.queue_ttl, 'how long a queued command stays valid'),
  request_timeout: duration(gw.request_timeout, 'how long a command waits for the device to answer'),
  max_inflight: int(gw.max_inflight, 1, 1024, 'commands running at once per device'),
  max_command_size: int(gw.max_command_size, 64, 16 * 1024 * 1024, 'largest JSON command in bytes'),
  dedupe_window: int(gw.dedupe_window, 0, 1_000_000, 'broker message ids remembered to drop duplicate deliveries'),
  dedupe_interval: duration(gw.dedupe_interval, 'two commands without a broker id and with the same topic and payload within this time are one'),
  cluster_heartbeat: duration(gw.cluster_heartbeat, 'cluster: time between two heartbeats of this node in the shared store'),
  cluster_node_timeout: duration(gw.cluster_node_timeout, 'cluster: a node without a heartbeat for this long is gone (its devices get 5.03); more than cluster_heartbeat'),
  cluster_claim_ttl: duration(gw.cluster_claim_ttl, 'cluster: how long the claim deciding which node answers a command for an unknown device is kept'),
  max_recorded_results: int(gw.max_recorded_results, 0, 10_000, 'last replies kept per device for the API lookup'),
  registration_cache: int(gw.registration_cache, 0, 10_000_000, 'registrations kept in memory in front of the store'),
  psk_identity_max: int(gw.psk_identity_max, 1, 65535, 'longest PSK identity the credentials API accepts, bytes'),
  psk_key_max: int(gw.psk_key_max, 1, 1024, 'longest PSK the credentials API accepts, bytes'),
  sensitive_params: str(gw.sensitive_params.join(','), 'registration parameters never published (comma-separated, substring match)', {
    pattern: /^[A-Za-z0-9_,-]*$/,
    allowed: 'comma-separated parameter names',
  }),
};
