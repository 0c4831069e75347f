/**
 * Topic layout (DESIGN.md §3): topic = mountpoint + translator topic, both templates with
 * `${endpoint_name}`, `${clientid}`, `${username}`. For LwM2M the client id is the endpoint
 * name, and so is the username (a device has no other).
 */
import { expandTopic, topicMatches, type TopicVars } from '@m2mhub/gateway';
import type { Lwm2mGatewayConfig, TranslatorName, Translator } from './config';

const PLACEHOLDER_RE = /\$\{[a-z_]+\}/;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export type UplinkKind = Exclude<TranslatorName, 'command'>;

export class Lwm2mTopics {
  /** The command template split in levels, each a literal, a wildcard, or a regex capturing the endpoint. */
  private readonly levels: (string | RegExp)[];
  constructor(private readonly cfg: Pick<Lwm2mGatewayConfig, 'mountpoint' | 'translators'>) {
    this.levels = (cfg.mountpoint + cfg.translators.command.topic)
      .split('/')
      .map((tl) => (PLACEHOLDER_RE.test(tl) ? new RegExp(`^${tl.split(/\$\{[a-z_]+\}/).map(escapeRe).join('(.+)')}$`) : tl));
  }

  private vars(ep: string): TopicVars {
    return { endpoint_name: ep, clientid: ep, username: ep };
  }

  /** Uplink topics without placeholders, computed once (one publish per command reply). */
  private readonly fixed = new Map<UplinkKind, Translator>();

  /** The uplink topic for `kind` for endpoint `ep`, and its QoS. */
  uplink(kind: UplinkKind, ep: string): Translator {
    const hit = this.fixed.get(kind);
    if (hit) return hit;
    const t = this.cfg.translators[kind];
    const template = this.cfg.mountpoint + t.topic;
    const out = { topic: expandTopic(template, this.vars(ep)), qos: t.qos };
    if (!PLACEHOLDER_RE.test(template)) this.fixed.set(kind, out);
    return out;
  }

  /**
   * The filter the gateway subscribes for `ep`'s commands. EMQX's `dn/#` under a
   * per-endpoint mountpoint and our `dn/${endpoint_name}/#` both become a filter that only
   * that device's topics match ("dn/ep/#" also matches "dn/ep", MQTT 3.1.1 §4.7.1.2).
   */
  commandFilter(ep: string): Translator {
    const t = this.cfg.translators.command;
    return { topic: expandTopic(this.cfg.mountpoint + t.topic, this.vars(ep)), qos: t.qos };
  }

  /**
   * A topic that reaches `ep`'s commands (the filter without a trailing `/#`: `dn/ep`,
   * `lwm2m/ep/dn`), or undefined when the template has other wildcards.
   */
  commandTopic(ep: string): string | undefined {
    const t = this.commandFilter(ep).topic.replace(/\/#$/, '');
    return /[+#]/.test(t) || !this.isCommandFor(ep, t) ? undefined : t;
  }

  /** True when the command filter names the endpoint, so devices cannot receive each other's commands. */
  commandFilterIsPerDevice(): boolean {
    return /\$\{(endpoint_name|clientid|username)\}/.test(this.cfg.mountpoint + this.cfg.translators.command.topic);
  }

  /**
   * One filter for every device's commands: each topic level holding a placeholder becomes
   * `+`. The endpoint is then read back from the topic by `endpointOf`.
   */
  commandWildcard(): Translator {
    const t = this.cfg.translators.command;
    const levels = (this.cfg.mountpoint + t.topic).split('/').map((l) => (PLACEHOLDER_RE.test(l) ? '+' : l));
    return { topic: levels.join('/'), qos: t.qos };
  }

  /**
   * The endpoint a command topic addresses, or undefined when it matches no device's filter.
   * With a command template without placeholders (EMQX's `dn/#` under an empty mountpoint)
   * every device shares the topic: `shared` is returned.
   */
  endpointOf(topic: string): { ep: string } | 'shared' | undefined {
    const template = this.levels;
    const levels = topic.split('/');
    let ep: string | undefined;
    for (let i = 0; i < template.length; i++) {
      const tl = template[i]!;
      if (tl === '#') break;
      const l = levels[i];
      if (l === undefined) return undefined;
      if (tl === '+') continue;
      if (typeof tl === 'string') {
        if (tl !== l) return undefined;
        continue;
      }
      const m = tl.exec(l);
      if (!m) return undefined;
      for (const v of m.slice(1)) {
        if (ep !== undefined && v !== ep) return undefined;
        ep = v;
      }
    }
    const last = template[template.length - 1];
    if (last !== '#' && levels.length !== template.length) return undefined;
    if (last === '#' && levels.length < template.length - 1) return undefined;
    return ep === undefined ? 'shared' : { ep };
  }

  /** Does `topic` address endpoint `ep`'s commands? */
  isCommandFor(ep: string, topic: string): boolean {
    return topicMatches(this.commandFilter(ep).topic, topic);
  }
}
