/**
 * LwM2M gateway round trips (issue #6): MQTT command -> LwM2M device -> MQTT reply, with many
 * registered devices. The hub side (Aedes broker + LwM2M gateway on UDP) runs in a child
 * process so the load generator does not share its event loop; this process registers the
 * devices (one UDP socket each, answering Reads like a device), publishes JSON `read`
 * commands over MQTT and times each reply on `up/resp` by its reqID.
 *
 * Two phases: throughput (as fast as a window of outstanding commands allows) and latency at
 * a fixed rate (default 5,000/s, half the 10,000/s target). No peer exists for this one:
 * the figures are absolute.
 *
 * Args: --devices N (10000), --commands N (50000), --window N (1000), --rate N (5000),
 * --seconds N (5), --profile DIR (V8 CPU profile of the hub child), --semi-space MB (the hub
 * child's V8 young generation, `--max-semi-space-size`; Node's default when absent), --cluster
 * (two hub children on one redis-server: devices on A, MQTT on B), --stages (the hub stamps each
 * command at the gateway: per-stage p50/p99), --gateway-config JSON (lwm2m keys merged into the
 * gateway's config, e.g. '{"max_recorded_results":0}').
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { cpus } from 'node:os';
import { type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { OptionNumber, serializeMessage, uintOption } from '@m2mhub/coap';
import mqtt from 'mqtt';
import { type BenchReport, figure, percentile } from '../report';

const CHILD_ENV = 'M2MHUB_GATEWAY_BENCH_CHILD';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

// ---------------------------------------------------------------- child: the hub side

async function runChild(): Promise<void> {
  const { createBroker } = await import('@m2mhub/broker');
  // apps/bench does not depend on @m2mhub/store (its package.json is not this bench's): import the source.
  const { createMemoryStore, createRedisStore } = await import('@m2mhub/store');
  // GWB_GATEWAY_SRC: another version's src/index.ts (e.g. an older commit extracted inside the package) for before/after runs.
  const { lwm2mGatewayFactory, parseConfig } = (await import(process.env.GWB_GATEWAY_SRC ?? '@m2mhub/gateway-lwm2m')) as typeof import('@m2mhub/gateway-lwm2m');
  const { silentLogger, systemRandom, systemScheduler, TypedEmitter } = await import('@m2mhub/core');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  // --cluster: this child is one node of a cluster on one redis-server (DESIGN.md §5).
  const redisUrl = process.env.GWB_REDIS_URL;
  const nodeId = process.env.GWB_NODE_ID;
  const broker = await createBroker({
    listeners: [{ name: 'mqtt:tcp', transport: 'tcp', port: 0, bind: '127.0.0.1' }],
    persistence: redisUrl ? { kind: 'redis', url: redisUrl } : { kind: 'memory' },
    sysIntervalMs: 0,
  });
  await broker.listen();
  const store = redisUrl ? createRedisStore(redisUrl) : createMemoryStore();
  await store.open();
  const probe = phaseProbe();
  const gwBroker = process.env.GWB_STAGES === '1' ? stampedBroker(broker, probe) : broker;
  const gw = await lwm2mGatewayFactory().create({
    ...(redisUrl && nodeId ? { nodeId, clustered: true } : {}),
    name: 'lwm2m',
    config: parseConfig({
      udp: { bind: '127.0.0.1', port: 0 },
      dtls: { enable: false },
      auto_observe: false,
      request_timeout: 10,
      ...(JSON.parse(process.env.GWB_GATEWAY_CONFIG ?? '{}') as Record<string, unknown>),
    }),
    broker: gwBroker,
    store,
    events: new TypedEmitter(),
    logger: silentLogger,
    scheduler: systemScheduler,
    random: systemRandom,
    dataDir: mkdtempSync(join(tmpdir(), 'm2mhub-gwbench-')),
    routes: { add() {} },
  });
  await gw.start();
  const udp = gw.listeners().find((l) => l.type === 'udp')!;
  process.send!({ mqtt: broker.ports()['mqtt:tcp'], udp: Number(udp.bind.split(':').pop()) });
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send!({ cpuUs: u.user + u.system });
    }
    if (m === 'stats') {
      const coap = (gw as unknown as { listenerStats?: () => unknown }).listenerStats?.();
      process.send!({ stats: { ...gw.stats(), coap }, rss: process.memoryUsage().rss });
    }
    if (m === 'phase-start') {
      probe.start();
      if (process.env.GWB_ALLOC_PROF) void allocProfile.start();
    }
    if (m === 'phase-stop') {
      const result = probe.stop();
      void (process.env.GWB_ALLOC_PROF ? allocProfile.stop(process.env.GWB_ALLOC_PROF) : Promise.resolve()).then(() => process.send!({ probe: result }));
    }
    if (m === 'exit') void gw.stop().then(() => broker.stop()).then(() => store.close()).then(() => process.exit(0));
  });
}


/** Epoch milliseconds with sub-millisecond resolution, comparable between the bench's processes and threads. */
const nowMs = () => performance.timeOrigin + performance.now();

interface ProbeResult {
  /** Event-loop delay during the phase (ms): how late a 1 ms timer ran. */
  loop: { p50: number; p99: number; max: number; mean: number };
  /** GC during the phase: count, summed and longest pause (ms), per kind (scavenge = young generation). */
  gc: { count: number; totalMs: number; maxMs: number; scavenges: number; scavengeMaxMs: number; majors: number; majorMaxMs: number };
  seconds: number;
  /** reqID -> epoch ms, when --stages asked for them (hub: command in, reply out). */
  stamps?: { in: Record<number, number>; out: Record<number, number> };
}

/**
 * --alloc-prof FILE: V8's sampling heap profiler over the fixed-rate phase, counting objects the
 * scavenger already freed too (what the young generation churns), summed per function into FILE.
 */
const allocProfile = {
  session: undefined as import('node:inspector').Session | undefined,
  async start() {
    const { Session } = await import('node:inspector');
    const session = new Session();
    session.connect();
    this.session = session;
    const post = (method: string, params?: object) => new Promise((resolve, reject) => session.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))));
    await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  },
  async stop(file: string) {
    const session = this.session;
    if (!session) return;
    const { writeFileSync } = await import('node:fs');
    const r = (await new Promise((resolve, reject) => session.post('HeapProfiler.stopSampling', (e, x) => (e ? reject(e) : resolve(x))))) as { profile: { head: HeapNode } };
    session.disconnect();
    interface HeapNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] }
    const self = new Map<string, number>();
    let total = 0;
    const walk = (n: HeapNode) => {
      const k = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(packages|apps)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
      self.set(k, (self.get(k) ?? 0) + n.selfSize);
      total += n.selfSize;
      for (const c of n.children) walk(c);
    };
    walk(r.profile.head);
    const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, 60);
    writeFileSync(file, `total sampled ${total} bytes\n${rows.map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}% ${k}`).join('\n')}\n`);
  },
};

/** Event-loop delay and GC pauses of this process between start() and stop(); stage stamps when fed. */
function phaseProbe() {
  let h: IntervalHistogram | undefined;
  let obs: PerformanceObserver | undefined;
  let t0 = 0;
  const gc = { count: 0, totalMs: 0, maxMs: 0, scavenges: 0, scavengeMaxMs: 0, majors: 0, majorMaxMs: 0 };
  const stamps = { in: {} as Record<number, number>, out: {} as Record<number, number>, on: false };
  return {
    stamps,
    start() {
      Object.assign(gc, { count: 0, totalMs: 0, maxMs: 0, scavenges: 0, scavengeMaxMs: 0, majors: 0, majorMaxMs: 0 });
      h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      obs = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
          gc.count++;
          gc.totalMs += e.duration;
          gc.maxMs = Math.max(gc.maxMs, e.duration);
          // perf_hooks constants: NODE_PERFORMANCE_GC_MINOR = 1 (scavenge), MAJOR = 4 (mark-compact).
          if (kind === 1) {
            gc.scavenges++;
            gc.scavengeMaxMs = Math.max(gc.scavengeMaxMs, e.duration);
          } else if (kind === 4) {
            gc.majors++;
            gc.majorMaxMs = Math.max(gc.majorMaxMs, e.duration);
          }
        }
      });
      obs.observe({ entryTypes: ['gc'] });
      stamps.on = true;
      t0 = performance.now();
    },
    stop(): ProbeResult {
      const seconds = (performance.now() - t0) / 1000;
      h?.disable();
      obs?.disconnect();
      stamps.on = false;
      const ms = (ns: number) => round(ns / 1e6);
      const loop = h ? { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) } : { p50: 0, p99: 0, max: 0, mean: 0 };
      const out: ProbeResult = { loop, gc: { ...gc, totalMs: round(gc.totalMs), maxMs: round(gc.maxMs), scavengeMaxMs: round(gc.scavengeMaxMs), majorMaxMs: round(gc.majorMaxMs) }, seconds: round(seconds) };
      if (Object.keys(stamps.in).length > 0) out.stamps = { in: stamps.in, out: stamps.out };
      stamps.in = {};
      stamps.out = {};
      return out;
    },
  };
}

/**
 * --stages: the broker the gateway sees, stamping (by reqID) when a command reaches the gateway
 * and when its reply is handed to the broker. Bench-only; costs a regex per message.
 */
function stampedBroker<B extends { publish: (...a: never[]) => unknown; subscribe: (...a: never[]) => unknown }>(broker: B, probe: ReturnType<typeof phaseProbe>): B {
  const REQ = /"reqID":(\d+)/;
  const stamp = (into: 'in' | 'out', payload: unknown) => {
    if (!probe.stamps.on) return;
    const text = typeof payload === 'string' ? payload : Buffer.from(payload as Uint8Array).toString();
    const m = REQ.exec(text);
    if (m) probe.stamps[into][Number(m[1])] = nowMs();
  };
  const b = broker as unknown as {
    publish(topic: string, payload: unknown, options?: unknown): Promise<void>;
    subscribe(filter: string, handler: (m: { payload: unknown }) => unknown, options?: unknown): Promise<unknown>;
  };
  return Object.assign(Object.create(broker) as B, {
    publish: (topic: string, payload: unknown, options?: unknown) => {
      stamp('out', payload);
      return b.publish(topic, payload, options);
    },
    subscribe: (filter: string, handler: (m: { payload: unknown }) => unknown, options?: unknown) =>
      b.subscribe(
        filter,
        (m) => {
          stamp('in', m.payload);
          return handler(m);
        },
        options,
      ),
  });
}

if (process.env[CHILD_ENV] === '1') await runChild();

// ---------------------------------------------------------------- parent: devices and MQTT load

const enc = (s: string) => new TextEncoder().encode(s);
const VALUE = enc('Open Mobile Alliance');

/** One device socket: registers `ep`, then answers every CON GET with 2.05 text (piggybacked, RFC 7252 §5.2.1). */
async function deviceSocket(ep: string, port: number, onRequest?: () => void): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  let registered: (() => void) | undefined;
  // RFC 7252 §3: version/type/TKL, code, message id, token. Only what answering needs is
  // read, and the answer is built from bytes, so the load generator stays cheap.
  const head = Buffer.from([0x60, 0x45, 0, 0]); // ACK, 2.05
  const tail = Buffer.concat([Buffer.from([0xc0, 0xff]), VALUE]); // Content-Format: 0 (empty uint), payload
  s.on('message', (buf) => {
    if (buf.length < 4) return;
    const type = (buf[0]! >> 4) & 3;
    const tkl = buf[0]! & 15;
    if (type === 2 && buf[1] === 0x41) {
      registered?.(); // ACK 2.01 Created
      return;
    }
    if (type !== 0 || buf[1] !== 0x01 || buf.length < 4 + tkl) return; // CON GET only
    onRequest?.();
    head[0] = 0x60 | tkl;
    head[2] = buf[2]!;
    head[3] = buf[3]!;
    s.send([head, buf.subarray(4, 4 + tkl), tail], port, '127.0.0.1');
  });
  const register = serializeMessage({
    type: 'CON',
    code: '0.02',
    messageId: 1,
    token: enc('r1'),
    options: [
      { number: OptionNumber.UriPath, value: enc('rd') },
      uintOption(OptionNumber.ContentFormat, 40),
      { number: OptionNumber.UriQuery, value: enc(`ep=${ep}`) },
      { number: OptionNumber.UriQuery, value: enc('lt=86400') },
      { number: OptionNumber.UriQuery, value: enc('lwm2m=1.1') },
      { number: OptionNumber.UriQuery, value: enc('b=U') },
    ],
    payload: enc('</1/0>,</3/0>'),
  });
  for (let attempt = 0; ; attempt++) {
    const ok = new Promise<boolean>((resolve) => {
      registered = () => resolve(true);
      setTimeout(() => resolve(false), 2000 + attempt * 2000);
    });
    s.send(register, port, '127.0.0.1');
    if (await ok) break;
    if (attempt > 4) throw new Error(`${ep} did not register`);
  }
  registered = undefined;
  return s;
}

export default async function gatewayBench(args: string[]): Promise<BenchReport> {
  const devices = arg(args, 'devices', 10_000);
  const commands = arg(args, 'commands', 50_000);
  const window = arg(args, 'window', 1000);
  const rate = arg(args, 'rate', 5000);
  const seconds = arg(args, 'seconds', 5);
  const startedAt = new Date().toISOString();
  const pi = args.indexOf('--profile');
  const profileDir = pi >= 0 ? args[pi + 1] : undefined;
  const semiSpace = arg(args, 'semi-space', 0);
  const stages = args.includes('--stages');
  const gci = args.indexOf('--gateway-config');
  const api = args.indexOf('--alloc-prof');
  const allocProf = api >= 0 ? args[api + 1] : undefined;
  const gatewayConfig = gci >= 0 ? (args[gci + 1] ?? '{}') : undefined;

  const cluster = args.includes('--cluster');
  const redis = cluster ? await startRedis() : undefined;
  const forkHub = (env: Record<string, string>): ChildProcess =>
    fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, ...env, [CHILD_ENV]: '1', ...(stages ? { GWB_STAGES: '1' } : {}), ...(gatewayConfig ? { GWB_GATEWAY_CONFIG: gatewayConfig } : {}), ...(allocProf ? { GWB_ALLOC_PROF: allocProf } : {}) },
      execArgv: [
        '--import',
        'tsx',
        ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
        ...(semiSpace > 0 ? [`--max-semi-space-size=${semiSpace}`] : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  // --cluster: devices on hub A, the MQTT client on hub B; every command crosses Redis twice.
  const hubs = redis
    ? [forkHub({ GWB_REDIS_URL: redis.url, GWB_NODE_ID: 'bench-a' }), forkHub({ GWB_REDIS_URL: redis.url, GWB_NODE_ID: 'bench-b' })]
    : [forkHub({})];
  const child = hubs[0]!;
  const hubPorts = await Promise.all(hubs.map((h) => new Promise<{ mqtt: number; udp: number }>((resolve) => h.once('message', (m) => resolve(m as { mqtt: number; udp: number })))));
  const ports = { udp: hubPorts[0]!.udp, mqtt: hubPorts[hubPorts.length - 1]!.mqtt };
  const sockets: Socket[] = [];
  // When each device last got a request (epoch ms): at 5,000/s a device gets one every 2 s, so
  // the reply to reqID n matches device n % devices' last request.
  const deviceAt = new Float64Array(devices);
  try {
    // Register in batches (the registrations are not what is measured here).
    const t0 = performance.now();
    for (let i = 0; i < devices; i += 500) {
      const batch = [];
      for (let j = i; j < Math.min(devices, i + 500); j++)
        batch.push(
          deviceSocket(`gwb-${j}`, ports.udp, () => {
            deviceAt[j] = nowMs();
          }),
        );
      sockets.push(...(await Promise.all(batch)));
    }
    const registerMs = performance.now() - t0;

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { reconnectPeriod: 0 });
    // MQTT.js leaves Nagle on: a burst of small PUBLISHes then waits for the hub's ACK of the
    // first segment (the hub's listener sets TCP_NODELAY, as Mosquitto and emqtt-bench do).
    // --nagle keeps MQTT.js's default to compare.
    if (!args.includes('--nagle')) (client.stream as import('node:net').Socket).setNoDelay?.(true);
    const pending = new Map<number, number>();
    const rtts: number[] = [];
    let errors = 0;
    let onReply: (() => void) | undefined;
    /** Phase 2: [reqID, sent (performance.now), device got the request (epoch), reply received (epoch)]. */
    let stageLog: [number, number, number, number][] | undefined;
    const REQ = /"reqID":(\d+)/;
    client.on('message', (_t, payload) => {
      const text = payload.toString();
      const m = REQ.exec(text);
      const id = m ? Number(m[1]) : -1;
      const at = pending.get(id);
      if (at === undefined) return;
      pending.delete(id);
      const rtt = performance.now() - at;
      rtts.push(rtt);
      if (stageLog) stageLog.push([id, at, deviceAt[id % devices]!, nowMs()]);
      if (process.env.GWB_DEBUG && rtt > 200) console.error(`late ${id} ${Math.round(rtt)}ms sent at ${Math.round(at)}`);
      if (!text.includes('"code":"2.05"')) errors++;
      onReply?.();
    });
    await client.subscribeAsync('up/resp');
    let reqID = 0;
    const send = () => {
      const id = reqID++;
      pending.set(id, performance.now());
      client.publish(`dn/gwb-${id % devices}`, `{"reqID":${id},"msgType":"read","data":{"path":"/3/0/0"}}`);
    };

    /** Resolves when `total` replies arrived; `start` sends, `onEach` runs per reply. */
    const phase = (total: number, start: () => void, onEach: () => void = () => {}) =>
      new Promise<void>((resolve) => {
        let done = 0;
        onReply = () => {
          done++;
          onEach();
          if (done === total) resolve();
        };
        start();
      });

    /** The hub children's CPU time so far (user + system, µs): on a shared machine, wall time swings with the neighbours' load. */
    const cpuOf = (h: ChildProcess) =>
      new Promise<number>((resolve) => {
        const on = (m: unknown) => {
          if (typeof m === 'object' && m !== null && 'cpuUs' in m) {
            h.off('message', on);
            resolve((m as { cpuUs: number }).cpuUs);
          }
        };
        h.on('message', on);
        h.send('cpu');
      });
    const hubCpu = async () => (await Promise.all(hubs.map(cpuOf))).reduce((a, b) => a + b, 0);

    // Phase 1: throughput with a window of outstanding commands.
    const cpu0 = await hubCpu();
    const t1 = performance.now();
    let sent1 = 0;
    await phase(
      commands,
      () => {
        for (; sent1 < Math.min(window, commands); sent1++) send();
      },
      () => {
        if (sent1 < commands) {
          send();
          sent1++;
        }
      },
    );
    const throughputMs = performance.now() - t1;
    const cpuPerCommandUs = ((await hubCpu()) - cpu0) / commands;
    const tput = (commands / throughputMs) * 1000;
    const tputRtts = rtts.splice(0).sort((a, b) => a - b);
    const tputErrors = errors;
    errors = 0;

    // Phase 2: latency at a fixed rate, paced every 5 ms, with the event loops and GC of both sides watched.
    const total = rate * seconds;
    const probeOf = (h: ChildProcess) =>
      new Promise<ProbeResult>((resolve) => {
        const on = (m: unknown) => {
          if (typeof m === 'object' && m !== null && 'probe' in m) {
            h.off('message', on);
            resolve((m as { probe: ProbeResult }).probe);
          }
        };
        h.on('message', on);
        h.send('phase-stop');
      });
    for (const h of hubs) h.send('phase-start');
    const parentProbe = phaseProbe();
    parentProbe.start();
    stageLog = [];
    const t2 = performance.now();
    let sent2 = 0;
    await phase(total, () => {
      const tick = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - t2) / 1000) * rate));
        while (sent2 < due) {
          send();
          sent2++;
        }
        if (sent2 >= total) clearInterval(tick);
      }, 5);
    });
    const lat = rtts.splice(0).sort((a, b) => a - b);
    const parentPhase = parentProbe.stop();
    const hubPhase = await Promise.all(hubs.map(probeOf));
    const stageFigures = stageBreakdown(stageLog, hubPhase[hubPhase.length - 1]?.stamps, hubPhase[0]?.stamps);
    stageLog = undefined;
    const stats = await new Promise<{ stats: Record<string, unknown>; rss: number }>((resolve) => {
      child.once('message', (m) => resolve(m as { stats: Record<string, unknown>; rss: number }));
      child.send('stats');
    });
    await client.endAsync();
    return {
      bench: 'gateway',
      peer: 'none (no other LwM2M<->MQTT gateway on this machine): absolute figures',
      startedAt,
      machine: { cpus: cpus().length, node: process.version },
      params: { devices, commands, window, rate, seconds, semiSpaceMB: semiSpace || 'default', cluster, stages, nagle: args.includes('--nagle'), gatewayConfig: gatewayConfig ?? 'default' },
      figures: [
        figure('round trips per second (window)', 'cmd/s', Math.round(tput), undefined, true),
        figure('hub CPU per command (window phase)', 'µs', round(cpuPerCommandUs), undefined, false),
        figure('commands per hub CPU-second', 'cmd/s', Math.round(1e6 / cpuPerCommandUs), undefined, true),
        figure('p50 latency at max throughput', 'ms', round(percentile(tputRtts, 50)), undefined, false),
        figure('p99 latency at max throughput', 'ms', round(percentile(tputRtts, 99)), undefined, false),
        figure(`p50 latency at ${rate}/s`, 'ms', round(percentile(lat, 50)), undefined, false),
        figure(`p99 latency at ${rate}/s`, 'ms', round(percentile(lat, 99)), undefined, false),
        figure(`max latency at ${rate}/s`, 'ms', round(lat[lat.length - 1] ?? Number.NaN), undefined, false),
        figure(`replies later than 1 s at ${rate}/s`, 'count', lat.filter((x) => x > 1000).length, undefined, false),
        figure('error replies', 'count', tputErrors + errors, undefined, false),
        ...probeFigures('hub', hubPhase[0]!),
        ...probeFigures('bench parent (devices + MQTT client)', parentPhase),
        ...stageFigures,
        figure('registration of all devices', 's', round(registerMs / 1000), undefined, false),
        figure('hub process RSS', 'MiB', round(stats.rss / 2 ** 20), undefined, false),
      ],
      notes: [
        cluster
          ? 'Cluster: two hub processes on one redis-server (Redis-routed broker, Redis store); devices registered on hub A, commands published and replies received on hub B. CPU per command is both hubs together (Redis not counted).'
          : 'The hub side (Aedes + LwM2M gateway + LwM2M server, UDP) runs in a child process; devices and the MQTT client in the parent, on the same machine.',
        `Target: 10,000 cmd/s, p99 < 20 ms at 5,000/s. Gateway stats: ${JSON.stringify(stats.stats)}`,
      ],
    };
  } finally {
    for (const s of sockets) s.close();
    await Promise.all(
      hubs.map((h) => {
        h.send('exit');
        return new Promise((r) => h.once('exit', r));
      }),
    );
    redis?.stop();
  }
}

function probeFigures(who: string, p: ProbeResult) {
  return [
    figure(`${who} event-loop delay p50 at the fixed rate`, 'ms', p.loop.p50, undefined, false),
    figure(`${who} event-loop delay p99`, 'ms', p.loop.p99, undefined, false),
    figure(`${who} event-loop delay max`, 'ms', p.loop.max, undefined, false),
    figure(`${who} GC pauses per second at the fixed rate`, '1/s', round(p.gc.count / p.seconds), undefined, false),
    figure(`${who} GC time share at the fixed rate`, '%', round((p.gc.totalMs / 1000 / p.seconds) * 100), undefined, false),
    figure(`${who} longest scavenge`, 'ms', p.gc.scavengeMaxMs, undefined, false),
    figure(`${who} mark-compacts at the fixed rate`, 'count', p.gc.majors, undefined, false),
    figure(`${who} longest mark-compact`, 'ms', p.gc.majorMaxMs, undefined, false),
  ];
}

/**
 * Where a command's time goes (p50 / p99 per stage, ms), from the parent's timestamps and, with
 * --stages, the hub's: publish -> gateway has the command (MQTT client, TCP, Aedes) -> device
 * has the CoAP request (gateway, CoAP, UDP, the parent's loop) -> gateway publishes the reply
 * (UDP, CoAP, LwM2M, translation) -> MQTT client has it (Aedes, TCP, the parent's loop).
 */
function stageBreakdown(log: [number, number, number, number][], hubIn?: ProbeResult['stamps'], hubOut?: ProbeResult['stamps']) {
  const origin = performance.timeOrigin;
  const cols: Record<string, number[]> = {};
  const add = (k: string, v: number) => (cols[k] ??= []).push(v);
  for (const [id, sent, dev, got] of log) {
    const sentAbs = origin + sent;
    const gin = hubIn?.in[id];
    const gout = hubOut?.out[id];
    if (gin !== undefined) {
      add('publish -> gateway has the command', gin - sentAbs);
      add('gateway has the command -> device has the CoAP request', dev - gin);
    } else add('publish -> device has the CoAP request', dev - sentAbs);
    if (gout !== undefined) {
      add('device has the request -> gateway publishes the reply', gout - dev);
      add('gateway publishes the reply -> MQTT client has it', got - gout);
    } else add('device has the request -> MQTT client has the reply', got - dev);
  }
  return Object.entries(cols).flatMap(([k, v]) => {
    v.sort((a, b) => a - b);
    return [figure(`stage p50: ${k}`, 'ms', round(percentile(v, 50)), undefined, false), figure(`stage p99: ${k}`, 'ms', round(percentile(v, 99)), undefined, false)];
  });
}

/** A redis-server on a free 127.0.0.1 port without persistence (--cluster); fails when redis-server is missing. */
async function startRedis(): Promise<{ url: string; stop(): void }> {
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.once('error', (e) => reject(new Error(`--cluster needs redis-server: ${e.message}`)));
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => proc.kill('SIGKILL') };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
