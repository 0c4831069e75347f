/**
 * Drops a command delivered twice, e.g. when two subscriptions match one publish (DESIGN.md
 * §3: a command is not executed twice). Keyed by the broker's message id (Aedes' brokerId +
 * brokerCounter, unique per publish across a cluster and the same on every node) when the
 * broker gives one; else by a digest of topic and payload, a duplicate only within
 * `intervalMs`. A user publishing the same JSON twice is two publishes and runs twice (with
 * an id; without one, only if the two are more than `intervalMs` apart).
 *
 * MQTT 3.1.1 §4.3.2: a QoS 1 publish retransmitted by its publisher (DUP) is a new broker
 * message and runs again; QoS 2 is the publisher's exactly-once (the broker dedupes it).
 */
import { createHash } from 'node:crypto';

export class Dedupe {
  /** key -> wall-clock ms first seen, oldest first. */
  private readonly recent = new Map<string, number>();
  constructor(
    /** How many recent messages to remember (0: no deduplication). */
    private readonly window: number,
    /** Milliseconds within which two id-less messages with the same topic and payload are one. */
    private readonly intervalMs = 1000,
  ) {}

  /** The message's key the first time it is seen, undefined for a duplicate. */
  first(msg: { id?: string; topic?: string; payload?: Uint8Array }, now = 0): string | undefined {
    const id = msg.id;
    const key = id ?? digest(msg.topic ?? '', msg.payload ?? new Uint8Array(0));
    if (this.window === 0) return key;
    const at = this.recent.get(key);
    if (at !== undefined && (id !== undefined || now - at <= this.intervalMs)) return undefined;
    if (at !== undefined) this.recent.delete(key);
    this.recent.set(key, now);
    if (this.recent.size > this.window) this.recent.delete(this.recent.keys().next().value as string);
    return key;
  }
}

function digest(topic: string, payload: Uint8Array): string {
  return `h:${createHash('sha1').update(topic).update('\0').update(payload).digest('base64')}`;
}
