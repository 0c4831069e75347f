/**
 * Gateway factories by name, and the manager that runs the configured ones. The hub builds
 * one registry, each gateway package contributes its factory, and `startGateways` runs every
 * gateway whose config section is present and enabled.
 */
import type { Logger } from '@m2mhub/core';
import { GatewayErrors } from './errors';
import type { Gateway, GatewayContext, GatewayFactory } from './types';

export class GatewayRegistry {
  private readonly factories = new Map<string, GatewayFactory<unknown>>();
  register<C>(factory: GatewayFactory<C>): this {
    if (this.factories.has(factory.name)) throw GatewayErrors.duplicate(factory.name);
    this.factories.set(factory.name, factory as GatewayFactory<unknown>);
    return this;
  }
  get(name: string): GatewayFactory<unknown> | undefined {
    return this.factories.get(name);
  }
  names(): string[] {
    return [...this.factories.keys()].sort();
  }
}

/** Builds the per-gateway context (the hub's composition root supplies this). */
export type ContextFactory = <C>(name: string, config: C) => GatewayContext<C>;

export class GatewayManager {
  private readonly running = new Map<string, Gateway>();
  constructor(
    private readonly registry: GatewayRegistry,
    private readonly makeContext: ContextFactory,
    private readonly logger: Logger,
  ) {}

  /** Creates and starts one gateway from raw (user) config. */
  async start(name: string, rawConfig: unknown): Promise<Gateway> {
    const factory = this.registry.get(name);
    if (!factory) throw GatewayErrors.unknownGateway(name);
    if (this.running.has(name)) throw GatewayErrors.duplicate(name);
    const config = factory.parseConfig(rawConfig);
    const gw = await factory.create(this.makeContext(name, config));
    await gw.start();
    this.running.set(name, gw);
    this.logger.info({ gateway: name }, 'gateway started');
    return gw;
  }

  get(name: string): Gateway | undefined {
    return this.running.get(name);
  }

  list(): Gateway[] {
    return [...this.running.values()];
  }

  async stop(name: string): Promise<void> {
    const gw = this.running.get(name);
    if (!gw) return;
    this.running.delete(name);
    await gw.stop();
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.running.keys()].reverse()) await this.stop(name);
  }
}
