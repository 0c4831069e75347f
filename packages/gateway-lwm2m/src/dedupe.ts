/**
 * Drops a command delivered twice, e.g. when two subscriptions match one publish (DESIGN.md
 * §3: a command is not executed twice). Keyed by the broker's message id (Aedes' brokerId +
 * brokerCounter, unique per publish across a cluster) when the broker gives one; the gateway
 * itself holds a single subscription. A user publishing the same JSON twice is two publishes
 * and runs twice, as it should.
 */
export class Dedupe {
  private readonly recent = new Set<string>();
  /** `window`: how many recent message ids to remember. */
  constructor(private readonly window: number) {}

  /** True the first time this message is seen. */
  first(msg: { id?: string }): boolean {
    const id = msg.id;
    if (id === undefined || this.window === 0) return true;
    if (this.recent.has(id)) return false;
    this.recent.add(id);
    if (this.recent.size > this.window) this.recent.delete(this.recent.values().next().value as string);
    return true;
  }
}
