/**
 * CoAP server throughput and latency: our CoapEndpoint over UDP against libcoap's
 * coap-server-openssl, in the same run, with the same load generator (raw UDP sockets in this
 * process, N outstanding CON GETs of a tiny resource, `/time` on both). Each server runs in its
 * own process. Also: our codec against coap-packet (parse and serialize of a real LwM2M
 * Register, wakaama-client.jsonl frame 1).
 *
 * The machine is shared, so the two servers run alternately for `--rounds` rounds and each
 * side's best round is reported (the least disturbed one).
 *
 * Args: --concurrency N (64), --duration S (5), --warmup S (1), --sockets N (16), --rounds N (2),
 * --profile DIR (CPU profile of our server child), --node-flags "FLAGS" (extra V8/Node flags for both
 * Node children, e.g. "--min-semi-space-size=16" to see the effect of young-generation sizing).
 *
 * Both Node children count their GC pauses (perf_hooks 'gc' entries) and report them with the
 * CPU time, so the notes give scavenges / mark-compacts and pause time per 100k requests.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type BenchReport, figure } from '../report';
import { type CoapLoadResult, runCoapLoad, waitForCoap } from '../load/udp-coap-load';

/** What a Node child reports when sampled: CPU time (µs) and its GC pauses so far. */
interface ChildSample {
  cpuUs: number;
  gc?: GcTotals;
}

interface GcTotals {
  minor: number;
  major: number;
  /** Sum and longest of the pauses, ms. */
  ms: number;
  maxMs: number;
}

/** Counts this process's GC pauses; `sample()` also resets the longest pause. */
async function gcCounter(): Promise<() => ChildSample> {
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  const t: GcTotals = { minor: 0, major: 0, ms: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) t.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) t.major++;
      t.ms += e.duration;
      t.maxMs = Math.max(t.maxMs, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  return () => {
    const c = process.cpuUsage();
    const gc = { ...t };
    t.maxMs = 0;
    return { cpuUs: c.user + c.system, gc };
  };
}

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

async function childServer(): Promise<void> {
  const { CoapEndpoint, UdpTransport } = await import('@m2mhub/coap');
  const sample = await gcCounter();
  const ep = new CoapEndpoint({ transport: new UdpTransport({ address: '127.0.0.1', port: 0, recvBufferSize: 4 << 20 }) });
  let second = -1;
  let body = new Uint8Array(0);
  ep.route('GET', '/time', () => {
    // Like libcoap's /time: the clock as text, recomputed once a second.
    const s = Math.floor(Date.now() / 1000);
    if (s !== second) {
      second = s;
      body = new TextEncoder().encode(new Date(s * 1000).toUTCString().slice(5, 25));
    }
    return { code: '2.05', contentFormat: 0, maxAge: 1, payload: body };
  });
  await ep.start();
  process.send?.({ port: ep.address().port });
  process.on('message', async (m) => {
    if (m === 'cpu') {
      process.send?.(sample());
      return;
    }
    process.send?.({ stats: ep.stats() });
    await ep.close();
    process.exit(0);
  });
}

/** The floor of Node's UDP path: a socket that answers each CON GET with a fixed 2.05 ACK, no CoAP logic. */
async function childEcho(): Promise<void> {
  const { createSocket } = await import('node:dgram');
  const sample = await gcCounter();
  const sock = createSocket('udp4');
  sock.on('message', (m, r) => {
    if (m.length < 4) return;
    const tkl = m[0]! & 0x0f;
    const out = Buffer.allocUnsafe(4 + tkl + 3 + 16);
    out[0] = 0x60 | tkl;
    out[1] = 0x45;
    out[2] = m[2]!;
    out[3] = m[3]!;
    m.copy(out, 4, 4, 4 + tkl);
    out[4 + tkl] = 0xc0; // Content-Format 0
    out[5 + tkl] = 0x21; // Max-Age 1
    out[6 + tkl] = 1;
    out[7 + tkl] = 0xff;
    out.write('Wed, 25 Nov 2026 15', 8 + tkl);
    sock.send(out, r.port, r.address);
  });
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  process.send?.({ port: sock.address().port });
  process.on('message', (m) => {
    if (m === 'cpu') {
      process.send?.(sample());
      return;
    }
    process.send?.({});
    process.exit(0);
  });
}

const REGISTER_HEX =
  '4402c0a9a9c06bfcb272641128396c776d326d3d312e310d0065703d77616b61616d612d657003623d55066c743d333030ff3c2f3e3b72743d226f6d612e6c776d326d223b63743d3131302c3c2f313e3b7665723d312e312c3c2f312f303e2c3c2f322f303e';

async function codecBench(): Promise<{ ours: [number, number]; peer: [number, number] }> {
  const { parseMessage, serializeMessage } = await import('@m2mhub/coap');
  // coap-packet is a dependency of @m2mhub/coap; resolve it from there.
  const req = createRequire(fileURLToPath(import.meta.resolve('@m2mhub/coap')));
  const cp = req('coap-packet') as { parse(b: Buffer): unknown; generate(p: unknown): Buffer };
  const bytes = Buffer.from(REGISTER_HEX, 'hex');
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  // CPU time, best of 3 (wall time is unreliable on a shared machine).
  const ops = (fn: () => void) => {
    for (let i = 0; i < 50_000; i++) fn();
    let best = 0;
    for (let round = 0; round < 3; round++) {
      const n = 300_000;
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) fn();
      const c = process.cpuUsage(c0);
      best = Math.max(best, (n / (c.user + c.system)) * 1e6);
    }
    return best;
  };
  const ourMsg = parseMessage(u8);
  const cpMsg = cp.parse(bytes);
  return {
    ours: [ops(() => parseMessage(u8)), ops(() => serializeMessage(ourMsg))],
    peer: [ops(() => cp.parse(bytes)), ops(() => cp.generate(cpMsg))],
  };
}

/**
 * Our CoAP layer alone: the endpoint driven by a transport that only counts (no socket), with
 * CON GETs of /time from 16 peers counting Message IDs up, as the load generator sends them.
 * CPU µs per request, best of 3 (what the layer adds on top of Node's UDP path).
 */
async function layerBench(): Promise<number> {
  const { CoapEndpoint, serializeMessage } = await import('@m2mhub/coap');
  let deliver: (d: { data: Uint8Array; peer: { address: string; port: number; family: 'IPv4' }; peerKey: string }) => void = () => {};
  const transport = {
    kind: 'udp' as const,
    onDatagram: (h: typeof deliver) => {
      deliver = h;
    },
    start: async () => {},
    close: async () => {},
    send: () => {},
    address: () => ({ address: '127.0.0.1', port: 1, family: 'IPv4' as const }),
  };
  const ep = new CoapEndpoint({ transport });
  const body = new TextEncoder().encode('25 Nov 2026 17:00:00');
  ep.route('GET', '/time', () => ({ code: '2.05', contentFormat: 0, maxAge: 1, payload: body }));
  const peers = Array.from({ length: 16 }, (_, i) => {
    const peer = Object.freeze({ address: '127.0.0.1', port: 40_000 + i, family: 'IPv4' as const });
    return { peer, peerKey: `127.0.0.1:${peer.port}` };
  });
  const get = serializeMessage({ type: 'CON', code: '0.01', messageId: 0, token: Uint8Array.of(1, 2, 3, 4), options: [{ number: 11, value: new TextEncoder().encode('time') }], payload: new Uint8Array(0) });
  let n = 0;
  const run = (count: number) => {
    for (let i = 0; i < count; i++, n++) {
      const data = new Uint8Array(get.length);
      data.set(get);
      const mid = (n >>> 4) & 0xffff;
      data[2] = mid >>> 8;
      data[3] = mid & 0xff;
      const p = peers[n & 15]!;
      deliver({ data, peer: p.peer, peerKey: p.peerKey });
    }
  };
  run(200_000);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const count = 300_000;
    const c0 = process.cpuUsage();
    run(count);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / count);
  }
  await ep.close();
  return best;
}

/** Waits up to `graceMs` for the process to exit by itself (a CPU profile is being written), then SIGTERM. */
function stop(child: ChildProcess, graceMs = 0): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    setTimeout(() => child.kill('SIGTERM'), graceMs);
  });
}

export default async function coap(args: string[]): Promise<BenchReport> {
  const concurrency = arg(args, 'concurrency', 64);
  const durationMs = arg(args, 'duration', 5) * 1000;
  const warmupMs = arg(args, 'warmup', 1) * 1000;
  const sockets = arg(args, 'sockets', 16);
  const rounds = arg(args, 'rounds', 2);
  const pi = args.indexOf('--profile');
  const profile = pi >= 0 ? args[pi + 1] : undefined;
  const fi = args.indexOf('--node-flags');
  const nodeFlags = fi >= 0 ? (args[fi + 1] ?? '').split(' ').filter((f) => f.length > 0) : [];
  type Run = CoapLoadResult & { cpuUsPerReq: number; gc: GcTotals | undefined };
  /** One load run; `cpu()` samples the server's CPU time (µs) and GC around the measured window. */
  const measured = async (port: number, cpu: () => Promise<ChildSample>, runs: Run[]) => {
    let c0: ChildSample = { cpuUs: 0 };
    let c1: ChildSample = { cpuUs: 0 };
    const r = await runCoapLoad({
      host: '127.0.0.1',
      port,
      path: ['time'],
      concurrency,
      sockets,
      durationMs,
      warmupMs,
      timeoutMs: 1000,
      onMeasure: async (phase) => {
        if (phase === 'start') c0 = await cpu();
        else c1 = await cpu();
      },
    });
    const gc =
      c0.gc && c1.gc
        ? { minor: c1.gc.minor - c0.gc.minor, major: c1.gc.major - c0.gc.major, ms: c1.gc.ms - c0.gc.ms, maxMs: c1.gc.maxMs }
        : undefined;
    runs.push({ ...r, cpuUsPerReq: (c1.cpuUs - c0.cpuUs) / Math.max(1, r.completed), gc });
  };
  const forkChild = (mode: string, prof: boolean) =>
    fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--conditions=m2mhub-source', '--import', 'tsx', ...nodeFlags, ...(prof && profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])],
      env: { ...process.env, M2MHUB_COAP_BENCH_CHILD: mode },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  const ask = <T>(c: ChildProcess, msg: string) =>
    new Promise<T>((r) => {
      c.once('message', (m) => r(m as T));
      c.send(msg);
    });
  const childCpu = (c: ChildProcess) => () => ask<ChildSample>(c, 'cpu');

  // Ours and a bare Node UDP responder in child processes, libcoap's coap-server-openssl in its
  // own: all stay up, the load alternates between them.
  const child = forkChild('1', true);
  const echo = forkChild('echo', false);
  const { createSocket } = await import('node:dgram');
  const libPort = await new Promise<number>((r) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });
  const lib = spawn('coap-server-openssl', ['-A', '127.0.0.1', '-p', String(libPort), '-v', '0'], { stdio: 'ignore' });
  const oursRuns: Run[] = [];
  const peerRuns: Run[] = [];
  const echoRuns: Run[] = [];
  try {
    const { port } = await new Promise<{ port: number }>((r) => child.once('message', (m) => r(m as { port: number })));
    const { port: echoPort } = await new Promise<{ port: number }>((r) => echo.once('message', (m) => r(m as { port: number })));
    await waitForCoap('127.0.0.1', port);
    await waitForCoap('127.0.0.1', libPort);
    // utime + stime of the libcoap process, in µs (clock ticks of 10 ms).
    const libCpu = async () => {
      const f = (await readFile(`/proc/${lib.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      return { cpuUs: (Number(f[11]) + Number(f[12])) * 10_000 };
    };
    for (let i = 0; i < rounds; i++) {
      await measured(port, childCpu(child), oursRuns);
      await measured(libPort, libCpu, peerRuns);
      await measured(echoPort, childCpu(echo), echoRuns);
    }
    await ask(child, 'stop');
    await ask(echo, 'stop');
  } finally {
    await stop(child, 10_000);
    await stop(echo, 2000);
    await stop(lib);
  }
  const best = (runs: Run[]) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const minCpu = (runs: Run[]) => Math.min(...runs.map((r) => r.cpuUsPerReq));
  /** GC per 100k requests of the least disturbed (best) round. */
  const gcNote = (r: Run) => {
    if (!r.gc) return 'n/a';
    const k = 100_000 / Math.max(1, r.completed);
    return `${(r.gc.minor * k).toFixed(1)} scavenges + ${(r.gc.major * k).toFixed(2)} mark-compacts, ${(r.gc.ms * k).toFixed(1)} ms paused (longest ${r.gc.maxMs.toFixed(1)} ms)`;
  };
  const ours = best(oursRuns);
  const peer = best(peerRuns);

  const codec = await codecBench();
  const layerUs = await layerBench();
  const { cpus } = await import('node:os');
  return {
    bench: 'coap',
    peer: 'libcoap coap-server-openssl 4.3 (server); coap-packet 1.1 (codec figures)',
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    params: { concurrency, durationMs, warmupMs, sockets, rounds, resource: 'GET /time', nodeFlags: nodeFlags.join(' ') },
    figures: [
      figure('requests per second', 'req/s', ours.rps, peer.rps, true),
      figure('latency p50', 'ms', ours.p50Ms, peer.p50Ms, false),
      figure('latency p99', 'ms', ours.p99Ms, peer.p99Ms, false),
      // CPU time of the server process per request (warm-up included): stable on a busy machine.
      figure('server CPU per request', 'µs', minCpu(oursRuns), minCpu(peerRuns), false),
      figure('codec parse (Register, peer coap-packet)', 'ops/s', codec.ours[0], codec.peer[0], true),
      figure('codec serialize (Register, peer coap-packet)', 'ops/s', codec.ours[1], codec.peer[1], true),
    ],
    notes: [
      `ours: ${ours.completed} answered, ${ours.lost} lost (no answer in 1 s), ${ours.errors} non-2.xx, mids exhausted: ${ours.midsExhausted}`,
      `libcoap: ${peer.completed} answered, ${peer.lost} lost, ${peer.errors} non-2.xx, mids exhausted: ${peer.midsExhausted}`,
      `rps per round, ours: ${oursRuns.map((r) => Math.round(r.rps)).join(', ')}; libcoap: ${peerRuns.map((r) => Math.round(r.rps)).join(', ')}`,
      `server CPU µs/request per round, ours: ${oursRuns.map((r) => r.cpuUsPerReq.toFixed(1)).join(', ')}; libcoap: ${peerRuns.map((r) => r.cpuUsPerReq.toFixed(1)).join(', ')}`,
      `floor of Node's UDP path (bare dgram responder, no CoAP logic): best ${Math.round(best(echoRuns).rps)} req/s, ${minCpu(echoRuns).toFixed(1)} µs CPU/request`,
      `our CoAP layer alone (endpoint on a transport that only counts, no socket): ${layerUs.toFixed(2)} µs CPU/request`,
      `GC per 100k requests (best round), ours: ${gcNote(ours)}; bare dgram responder: ${gcNote(best(echoRuns))}`,
      `latency p99 per round, ours: ${oursRuns.map((r) => r.p99Ms.toFixed(2)).join(', ')} ms; libcoap: ${peerRuns.map((r) => r.p99Ms.toFixed(2)).join(', ')} ms`,
      'Load generator and both servers share the machine; the best round of each is reported.',
    ],
  };
}

if (process.env.M2MHUB_COAP_BENCH_CHILD === '1') await childServer();
if (process.env.M2MHUB_COAP_BENCH_CHILD === 'echo') await childEcho();
