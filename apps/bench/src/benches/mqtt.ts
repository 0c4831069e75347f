/**
 * MQTT broker throughput and latency: our broker (Aedes behind @m2mhub/broker's listeners,
 * memory persistence) against Mosquitto, each in its own process on a free 127.0.0.1 port,
 * driven by the same MQTT.js load in this process.
 *
 * Figures: QoS 0 and QoS 1 fan-through (one publisher, one subscriber, messages/s from the
 * first publish to the last delivery) and QoS 1 round-trip latency (publish -> delivery,
 * sequential, p50/p99). The machine is shared: each side runs `--rounds` times alternately and
 * its best round is reported.
 *
 * Args: --messages N (20000), --payload BYTES (64), --latency N (2000), --rounds N (2),
 * --persistence level|memory (level: what the hub runs by default, in a temp dir),
 * --peer-nodelay 1|0 (1: Mosquitto with `set_tcp_nodelay true`, as our listener sets
 * TCP_NODELAY; 0: Mosquitto's default, Nagle on, which is slower at QoS 1 on loopback).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { type EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { type BenchReport, figure, percentile } from '../report';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

async function childBroker(): Promise<void> {
  const { createBroker } = await import('@m2mhub/broker');
  const dir = process.env.M2MHUB_MQTT_BENCH_LEVEL_DIR;
  const broker = await createBroker({
    listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: '127.0.0.1' }],
    persistence: dir ? { kind: 'level', path: dir } : { kind: 'memory' },
    sysIntervalMs: 0,
  });
  await broker.listen();
  process.send?.({ port: broker.ports()['mqtt:tcp'] });
  process.on('message', async () => {
    await broker.stop();
    process.exit(0);
  });
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

const ev = (e: unknown, name: string) => once(e as EventEmitter, name);

async function client(port: number, id: string): Promise<mqtt.MqttClient> {
  for (let i = 0; i < 100; i++) {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: id, reconnectPeriod: 0, connectTimeout: 2000 });
    try {
      await Promise.race([ev(c, 'connect'), ev(c, 'error').then(([e]) => Promise.reject(e))]);
      return c;
    } catch {
      c.end(true);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`cannot connect to 127.0.0.1:${port}`);
}

interface RoundResult {
  qos0: number;
  qos1: number;
  p50: number;
  p99: number;
}

async function throughput(port: number, qos: 0 | 1, n: number, payload: Buffer): Promise<number> {
  const sub = await client(port, `bench-sub-${qos}`);
  const pub = await client(port, `bench-pub-${qos}`);
  const topic = `bench/t${qos}`;
  await sub.subscribeAsync(topic, { qos });
  let got = 0;
  const done = new Promise<void>((resolve) =>
    sub.on('message', () => {
      if (++got === n) resolve();
    }),
  );
  const t0 = performance.now();
  // Windows of 500 so neither side's buffers grow without bound.
  for (let i = 0; i < n; i += 500) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + 500); j++) batch.push(pub.publishAsync(topic, payload, { qos }));
    await Promise.all(batch);
    while (got < i - 2000) await new Promise((r) => setImmediate(r));
  }
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${got}/${n} delivered`)), 60_000))]);
  const ms = performance.now() - t0;
  await Promise.all([sub.endAsync(), pub.endAsync()]);
  return (n / ms) * 1000;
}

async function latency(port: number, n: number, payload: Buffer): Promise<number[]> {
  const sub = await client(port, 'bench-lat-sub');
  const pub = await client(port, 'bench-lat-pub');
  await sub.subscribeAsync('bench/lat', { qos: 1 });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const got = ev(sub, 'message');
    const t0 = performance.now();
    pub.publish('bench/lat', payload, { qos: 1 });
    await got;
    out.push(performance.now() - t0);
  }
  await Promise.all([sub.endAsync(), pub.endAsync()]);
  return out.sort((a, b) => a - b);
}

async function round(port: number, n: number, lat: number, payload: Buffer): Promise<RoundResult> {
  const qos0 = await throughput(port, 0, n, payload);
  const qos1 = await throughput(port, 1, n, payload);
  const l = await latency(port, lat, payload);
  return { qos0, qos1, p50: percentile(l, 50), p99: percentile(l, 99) };
}

export default async function mqttBench(args: string[]): Promise<BenchReport> {
  const n = arg(args, 'messages', 20_000);
  const size = arg(args, 'payload', 64);
  const lat = arg(args, 'latency', 2000);
  const rounds = arg(args, 'rounds', 2);
  const peerNoDelay = arg(args, 'peer-nodelay', 1) !== 0;
  const pi = args.indexOf('--persistence');
  const persistence = pi >= 0 && args[pi + 1] === 'memory' ? 'memory' : 'level';
  const payload = Buffer.alloc(size, 0x61);

  const dir = mkdtempSync(join(tmpdir(), 'm2mhub-bench-mqtt-'));
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--conditions=m2mhub-source', '--import', 'tsx', ...(process.env.M2MHUB_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.M2MHUB_BENCH_CPU_PROF}`] : [])],
    env: {
      ...process.env,
      M2MHUB_MQTT_BENCH_CHILD: '1',
      ...(persistence === 'level' ? { M2MHUB_MQTT_BENCH_LEVEL_DIR: join(dir, 'mqtt') } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [{ port: ourPort }] = (await ev(child, 'message')) as [{ port: number }];

  const mosqPort = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    `listener ${mosqPort} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n${peerNoDelay ? 'set_tcp_nodelay true\n' : ''}`,
  );
  const mosq = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const ours: RoundResult[] = [];
  const peer: RoundResult[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      ours.push(await round(ourPort, n, lat, payload));
      peer.push(await round(mosqPort, n, lat, payload));
    }
  } finally {
    child.send('stop');
    mosq.kill('SIGTERM');
    await ev(child, 'exit').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
  const best = (rs: RoundResult[], k: keyof RoundResult, higher: boolean) => (higher ? Math.max(...rs.map((r) => r[k])) : Math.min(...rs.map((r) => r[k])));
  return {
    bench: 'mqtt',
    peer: `mosquitto (Debian package, persistence off${peerNoDelay ? ', set_tcp_nodelay true' : ', default Nagle'})`,
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    params: { messages: n, payload: size, latencySamples: lat, rounds, persistence, peerNoDelay },
    figures: [
      figure('QoS 0 publish -> delivery throughput', 'msg/s', best(ours, 'qos0', true), best(peer, 'qos0', true)),
      figure('QoS 1 publish -> delivery throughput', 'msg/s', best(ours, 'qos1', true), best(peer, 'qos1', true)),
      figure('QoS 1 round-trip latency p50', 'ms', best(ours, 'p50', false), best(peer, 'p50', false), false),
      figure('QoS 1 round-trip latency p99', 'ms', best(ours, 'p99', false), best(peer, 'p99', false), false),
    ],
    notes: [
      'one MQTT.js publisher and one subscriber in the bench process; each broker in its own process',
      `ours: @m2mhub/broker (Aedes 1.2, packet-size guard, PUBACK gate, TCP_NODELAY) with ${persistence} persistence; clean-session subscribers, so QoS 1 is never written to disk`,
      'M2MHUB_BENCH_CPU_PROF=<dir> writes a CPU profile of our broker process there',
      'machine shared with other engineers: best of the rounds per side',
    ],
  };
}

if (process.env.M2MHUB_MQTT_BENCH_CHILD === '1') await childBroker();
