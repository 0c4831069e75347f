/** Test harness: a real broker (TCP on an ephemeral port), the LwM2M gateway on UDP port 0, MQTT.js and simulated devices. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBroker, type Broker } from '@m2mhub/broker';
import type { CoapEndpoint } from '@m2mhub/coap';
import { type PeerAddress, silentLogger, systemRandom, systemScheduler, TypedEmitter } from '@m2mhub/core';
import type { BrokerClient, GatewayContext, GatewayEvents, GatewayRoute } from '@m2mhub/gateway';
import { type SimDeviceOptions, SimulatedDevice, startDevice } from '@m2mhub/simulator';
import { createMemoryStore, type Store } from '@m2mhub/store';
import mqtt, { type MqttClient } from 'mqtt';
import { type Lwm2mGateway, type Lwm2mGatewayOptions, lwm2mGatewayFactory, parseConfig } from '../src/index';

export interface Received {
  topic: string;
  json: Record<string, unknown>;
}

/** Context fields a test sets: cluster membership, or a broker as another part of the hub would see it. */
export type HarnessContext = Partial<Pick<GatewayContext<unknown>, 'nodeId' | 'clustered'>> & { wrapBroker?: (b: BrokerClient) => BrokerClient };

export class Harness {
  broker!: Broker;
  gateway!: Lwm2mGateway;
  mqtt!: MqttClient;
  routes: GatewayRoute[] = [];
  store!: Store;
  private gatewayArgs: { config: Record<string, unknown>; opts: Lwm2mGatewayOptions; ctx: HarnessContext } = { config: {}, opts: {}, ctx: {} };
  received: Received[] = [];
  devices: { device: SimulatedDevice; endpoint: CoapEndpoint }[] = [];
  readonly dataDir = mkdtempSync(join(tmpdir(), 'm2mhub-gw-'));

  static async start(config: Record<string, unknown> = {}, opts: Lwm2mGatewayOptions = {}, subscribe = '#', ctx: HarnessContext = {}): Promise<Harness> {
    const h = new Harness();
    h.broker = await createBroker({ listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: '127.0.0.1' }], persistence: { kind: 'memory' }, sysIntervalMs: 0 });
    await h.broker.listen();
    const store = createMemoryStore();
    await store.open();
    h.store = store;
    h.gatewayArgs = { config, opts, ctx };
    await h.startGateway(0);
    h.mqtt = mqtt.connect(`mqtt://127.0.0.1:${h.broker.ports()['mqtt:tcp']}`, { reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      h.mqtt.once('connect', () => resolve());
      h.mqtt.once('error', reject);
    });
    h.mqtt.on('message', (topic, payload) => {
      try {
        h.received.push({ topic, json: JSON.parse(payload.toString()) as Record<string, unknown> });
      } catch {
        h.received.push({ topic, json: { raw: payload.toString() } });
      }
    });
    await h.mqtt.subscribeAsync(subscribe);
    return h;
  }

  /** Creates and starts the gateway on the harness's broker and store (UDP `port`, 0 for any). */
  async startGateway(port: number): Promise<void> {
    this.gateway = await this.createGateway(port);
  }

  /** A gateway on the harness's broker and store (another node of a cluster when `ctx` names one). */
  async createGateway(port: number, config = this.gatewayArgs.config, ctx = this.gatewayArgs.ctx): Promise<Lwm2mGateway> {
    const { opts } = this.gatewayArgs;
    const cfg = parseConfig({ udp: { bind: '127.0.0.1', port }, dtls: { enable: false }, ...config });
    const { wrapBroker, ...extra } = ctx;
    const gw = (await lwm2mGatewayFactory(opts).create({
      ...extra,
      name: 'lwm2m',
      config: cfg,
      broker: wrapBroker ? wrapBroker(this.broker) : this.broker,
      store: this.store,
      events: new TypedEmitter<GatewayEvents>(),
      logger: silentLogger,
      scheduler: systemScheduler,
      random: systemRandom,
      dataDir: this.dataDir,
      routes: { add: (r) => this.routes.push(r) },
    })) as Lwm2mGateway;
    await gw.start();
    return gw;
  }

  /** Stops the gateway and starts a new one on the same store and UDP port (a restart). */
  async restartGateway(): Promise<void> {
    const port = this.udpAddress().port;
    await this.gateway.stop();
    this.routes = [];
    await this.startGateway(port);
  }

  udpAddress(gw: Lwm2mGateway = this.gateway): PeerAddress {
    const l = gw.listeners().find((x) => x.type === 'udp')!;
    const port = Number(l.bind.split(':').pop());
    return { address: '127.0.0.1', port, family: 'IPv4' };
  }

  async device(profile: Omit<SimDeviceOptions, 'server'>, register = true, gw: Lwm2mGateway = this.gateway): Promise<SimulatedDevice> {
    const device = new SimulatedDevice({ ...profile, server: this.udpAddress(gw) });
    const endpoint = await startDevice(device);
    this.devices.push({ device, endpoint });
    if (register) {
      const res = await device.register();
      if (res.code !== '2.01') throw new Error(`register answered ${res.code}`);
    }
    return device;
  }

  publish(topic: string, msg: unknown): Promise<unknown> {
    return this.mqtt.publishAsync(topic, typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Waits for a message matching `pred` received after index `from`. */
  async waitFor(pred: (r: Received) => boolean, timeoutMs = 5000, from = 0): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`timed out; received:\n${this.received.map((r) => `${r.topic} ${JSON.stringify(r.json)}`).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Publishes a command and waits for the reply with the same reqID on `topic`. */
  async command(ep: string, cmd: Record<string, unknown>, opts: { topic?: string; replyTopic?: string; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const from = this.received.length;
    await this.publish(opts.topic ?? `dn/${ep}`, cmd);
    const r = await this.waitFor((x) => x.topic === (opts.replyTopic ?? 'up/resp') && x.json.reqID === cmd.reqID && x.json.ep === ep, opts.timeoutMs ?? 5000, from);
    return r.json;
  }

  async close(): Promise<void> {
    for (const d of this.devices) await d.endpoint.close().catch(() => undefined);
    await this.mqtt.endAsync().catch(() => undefined);
    await this.gateway.stop();
    await this.broker.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
