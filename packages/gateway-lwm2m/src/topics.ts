/**
 * Topic layout (DESIGN.md §3): topic = mountpoint + translator topic, both templates with
 * `${endpoint_name}`, `${clientid}`, `${username}`. For LwM2M the client id is the endpoint
 * name, and so is the username (a device has no other).
 */
import { expandTopic, topicMatches, type TopicVars } from '@m2mhub/gateway';
import type { Lwm2mGatewayConfig, TranslatorName, Translator } from './config';

export type UplinkKind = Exclude<TranslatorName, 'command'>;

export class Lwm2mTopics {
  constructor(private readonly cfg: Pick<Lwm2mGatewayConfig, 'mountpoint' | 'translators'>) {}

  private vars(ep: string): TopicVars {
    return { endpoint_name: ep, clientid: ep, username: ep };
  }

  /** The uplink topic for `kind` for endpoint `ep`, and its QoS. */
  uplink(kind: UplinkKind, ep: string): Translator {
    const t = this.cfg.translators[kind];
    return { topic: expandTopic(this.cfg.mountpoint + t.topic, this.vars(ep)), qos: t.qos };
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

  /** True when the command filter names the endpoint, so devices cannot receive each other's commands. */
  commandFilterIsPerDevice(): boolean {
    return /\$\{(endpoint_name|clientid|username)\}/.test(this.cfg.mountpoint + this.cfg.translators.command.topic);
  }

  /** Does `topic` address endpoint `ep`'s commands? */
  isCommandFor(ep: string, topic: string): boolean {
    return topicMatches(this.commandFilter(ep).topic, topic);
  }
}
