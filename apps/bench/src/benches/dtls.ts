/**
 * DTLS 1.2 PSK server: full handshakes per second, CoAP-over-DTLS requests per second and
 * memory per idle session, ours (createDtlsTransport + CoapEndpoint, in a child process)
 * against libcoap's `coap-server-openssl -k <key>` in the same run, driven by the same client
 * (our DtlsClientSocket, TLS_PSK_WITH_AES_128_CCM_8, in this process).
 *
 * Args: --duration S (4) per phase, --rounds N (5), --hs-concurrency N (16), --sessions N (16), --window N (4),
 * --idle N (2000 idle sessions for the memory figure), --profile DIR (CPU profile of our child),
 * --server-flags "..." (extra node flags for our server child, e.g. GC tuning to measure).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connectDtls, type DtlsClientSocket } from '@m2mhub/dtls';
import { type BenchReport, figure } from '../report';

const KEY = new TextEncoder().encode('bench-psk-key-0123456789');
const IDENTITY = 'bench-id';
const SUITE = 0xc0a8;

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

async function childServer(): Promise<void> {
  const { CoapEndpoint } = await import('@m2mhub/coap');
  const { createDtlsTransport, memoryPskStore } = await import('@m2mhub/dtls');
  const t = createDtlsTransport({
    pskStore: memoryPskStore({ [IDENTITY]: { key: KEY } }),
    limits: { maxHandshakes: 100_000 },
  });
  const ep = new CoapEndpoint({ transport: t });
  const body = new TextEncoder().encode(new Date().toUTCString().slice(5, 25));
  ep.route('GET', '/time', () => ({ code: '2.05', contentFormat: 0, maxAge: 1, payload: body }));
  await ep.start();
  process.send?.({ port: ep.address().port });
  process.on('message', async (m) => {
    if (m === 'mem') {
      (globalThis as { gc?: () => void }).gc?.();
      const u = process.memoryUsage();
      process.send?.({ rss: u.rss, heap: u.heapUsed + u.external + u.arrayBuffers, sessions: t.server.sessionCount });
      return;
    }
    await ep.close();
    process.exit(0);
  });
}

interface Target {
  port: number;
  mem(): Promise<{ rss: number; heap?: number }>;
  /** CPU time the server process used so far, in microseconds. */
  cpu(): Promise<number>;
}

/** Per-phase result: wall-clock rate, and operations per CPU-second of the server process. */
interface Rate {
  rate: number;
  perCpuSecond: number;
  /** Operations per CPU-second of the client (this process): is the client the bottleneck? */
  clientPerCpuSecond: number;
  failed: number;
}

/** CPU time of this process (the client) in microseconds. */
function clientCpu(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

/**
 * Every client binds a local port not used before in this run: a reused ephemeral port lands on
 * the previous client's session in libcoap (about 1 in 200 handshakes stalled until timeout),
 * which would measure port reuse rather than handshakes. Ours handles it (RFC 6347 §4.2.8).
 */
let nextPort = 20_000 + Math.floor(Math.random() * 5_000);
async function connect(port: number): Promise<DtlsClientSocket> {
  for (;;) {
    const localPort = nextPort++;
    if (nextPort > 65_000) nextPort = 20_000;
    try {
      return await connectDtls({ port, localPort, psk: { identity: IDENTITY, key: KEY }, cipherSuites: [SUITE], timeoutMs: 5000 });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
    }
  }
}

async function handshakeRate(target: Target, concurrency: number, durationMs: number): Promise<Rate> {
  const port = target.port;
  let done = 0;
  let failed = 0;
  const end = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      try {
        const c = await connect(port);
        done++;
        c.close();
      } catch {
        failed++;
      }
    }
  };
  const cpu0 = await target.cpu();
  const ccpu0 = clientCpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = performance.now() - t0;
  const ccpu = clientCpu() - ccpu0;
  const cpu = (await target.cpu()) - cpu0;
  return { rate: (done / wall) * 1000, perCpuSecond: cpu > 0 ? done / (cpu / 1e6) : Number.NaN, clientPerCpuSecond: done / (ccpu / 1e6), failed };
}

/** CON GET /time with a 2-byte token, raw CoAP bytes (RFC 7252 §3). */
function getTime(mid: number): Uint8Array {
  return new Uint8Array([0x42, 0x01, mid >> 8, mid & 0xff, mid >> 8, mid & 0xff, 0xb4, 0x74, 0x69, 0x6d, 0x65]);
}

async function requestRate(target: Target, sessions: number, window: number, durationMs: number): Promise<Rate> {
  const port = target.port;
  const socks: DtlsClientSocket[] = [];
  for (let i = 0; i < sessions; i++) socks.push(await connect(port));
  let done = 0;
  let lost = 0;
  let running = true;
  let counting = false;
  let cpu0 = 0;
  let cpu1 = 0;
  let ccpu0 = 0;
  let ccpu1 = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    for (const s of socks) {
      let mid = Math.floor(Math.random() * 60000);
      const pending = new Map<number, number>();
      const fire = () => {
        if (!running) return;
        mid = (mid + 1) & 0xffff;
        pending.set(mid, performance.now());
        s.send(getTime(mid));
      };
      s.onData((d) => {
        const m = ((d[2] ?? 0) << 8) | (d[3] ?? 0);
        if (!pending.delete(m)) return;
        if (counting && d[1] === 0x45) done++;
        fire();
      });
      const sweep = setInterval(() => {
        const now = performance.now();
        for (const [m, at] of pending) {
          if (now - at > 1000) {
            pending.delete(m);
            lost++;
            fire();
          }
        }
        if (!running) clearInterval(sweep);
      }, 250);
      for (let w = 0; w < window; w++) fire();
    }
    setTimeout(() => {
      counting = true;
      ccpu0 = clientCpu();
      void target.cpu().then((c) => {
        cpu0 = c;
      });
    }, 500);
    setTimeout(() => {
      running = false;
      ccpu1 = clientCpu();
      void target.cpu().then((c) => {
        cpu1 = c;
        resolve();
      });
    }, durationMs + 500);
  });
  const elapsed = performance.now() - t0 - 500;
  for (const s of socks) s.close();
  const cpu = cpu1 - cpu0;
  return {
    rate: (done / elapsed) * 1000,
    perCpuSecond: cpu > 0 ? done / (cpu / 1e6) : Number.NaN,
    clientPerCpuSecond: done / ((ccpu1 - ccpu0) / 1e6),
    failed: lost,
  };
}

async function idleMemory(target: Target, n: number): Promise<{ rss: number; heap?: number }> {
  const before = await target.mem();
  const socks: DtlsClientSocket[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => connect(target.port)));
    socks.push(...batch);
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = await target.mem();
  for (const s of socks) s.close();
  const out: { rss: number; heap?: number } = { rss: (after.rss - before.rss) / n };
  if (after.heap !== undefined && before.heap !== undefined) out.heap = (after.heap - before.heap) / n;
  return out;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

async function freePortPair(): Promise<number> {
  const { createSocket } = await import('node:dgram');
  for (;;) {
    const a = createSocket('udp4');
    await new Promise<void>((r) => a.bind(0, '127.0.0.1', () => r()));
    const p = a.address().port;
    const b = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      b.once('error', () => r(false));
      b.bind(p + 1, '127.0.0.1', () => r(true));
    });
    a.close();
    b.close();
    if (ok) return p;
  }
}

interface Run {
  hs: Rate[];
  rps: Rate[];
  mem: { rss: number; heap?: number };
}

/** utime + stime of a process from /proc/<pid>/stat, in microseconds (clock ticks of 10 ms). */
async function procCpu(pid: number | undefined): Promise<number> {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export default async function dtls(args: string[]): Promise<BenchReport> {
  const o = {
    durationMs: arg(args, 'duration', 4) * 1000,
    rounds: arg(args, 'rounds', 5),
    hsConc: arg(args, 'hs-concurrency', 16),
    sessions: arg(args, 'sessions', 16),
    window: arg(args, 'window', 4),
    idle: arg(args, 'idle', 2000),
  };
  const pi = args.indexOf('--profile');
  const profile = pi >= 0 ? args[pi + 1] : undefined;
  const fi = args.indexOf('--server-flags');
  const serverFlags = fi >= 0 ? (args[fi + 1] ?? '').split(' ').filter((f) => f.length > 0) : [];

  // Every phase runs against a freshly started server (libcoap slows down as sessions of an
  // earlier phase pile up), and phases alternate between ours and libcoap round by round so
  // load from other processes on a shared machine hits both alike. Figures are medians.
  const startOurs = async (): Promise<{ target: Target; stop: () => Promise<void> }> => {
    // With --profile every phase of ours writes its own CPU profile into the directory.
    const withProfile = profile !== undefined;
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--conditions=m2mhub-source', '--import', 'tsx', '--expose-gc', ...serverFlags, ...(withProfile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])],
      env: { ...process.env, M2MHUB_DTLS_BENCH_CHILD: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const { port } = await new Promise<{ port: number }>((r) => child.once('message', (m) => r(m as { port: number })));
    const mem = () =>
      new Promise<{ rss: number; heap: number }>((r) => {
        child.once('message', (m) => r(m as { rss: number; heap: number }));
        child.send('mem');
      });
    return {
      target: { port, mem, cpu: () => procCpu(child.pid) },
      stop: async () => {
        // Let the child exit by itself so a CPU profile gets written.
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.send('stop');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        await stop(child);
      },
    };
  };
  const startLib = async (): Promise<{ target: Target; stop: () => Promise<void> }> => {
    const libPort = await freePortPair();
    const lib = spawn('coap-server-openssl', ['-A', '127.0.0.1', '-p', String(libPort), '-k', new TextDecoder().decode(KEY), '-v', '0'], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 300));
    const mem = async () => {
      const m = readFileSync(`/proc/${lib.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
      return { rss: Number(m?.[1] ?? 0) * 1024 };
    };
    return { target: { port: libPort + 1, mem, cpu: () => procCpu(lib.pid) }, stop: () => stop(lib) };
  };
  const ours: Run = { hs: [], rps: [], mem: { rss: 0 } };
  const peer: Run = { hs: [], rps: [], mem: { rss: 0 } };
  const targets: [string, Run, () => Promise<{ target: Target; stop: () => Promise<void> }>][] = [
    ['ours', ours, startOurs],
    ['libcoap', peer, startLib],
  ];
  const phase = async <T>(start: () => Promise<{ target: Target; stop: () => Promise<void> }>, fn: (t: Target) => Promise<T>) => {
    const s = await start();
    try {
      // Warm up the JIT of the server and the client.
      await handshakeRate(s.target, 4, 300);
      return await fn(s.target);
    } finally {
      await s.stop();
    }
  };
  for (let round = 0; round < o.rounds; round++) {
    for (const [name, run, start] of targets) {
      const rps = await phase(start, (t) => requestRate(t, o.sessions, o.window, o.durationMs));
      run.rps.push(rps);
      const hs = await phase(start, (t) => handshakeRate(t, o.hsConc, o.durationMs));
      run.hs.push(hs);
      const line =
        `${hs.rate.toFixed(0)} handshakes/s (${hs.perCpuSecond.toFixed(0)}/server cpu-s, ${hs.clientPerCpuSecond.toFixed(0)}/client cpu-s), ` +
        `${rps.rate.toFixed(0)} req/s (${rps.perCpuSecond.toFixed(0)}/server cpu-s, ${rps.clientPerCpuSecond.toFixed(0)}/client cpu-s)`;
      console.error(`round ${round} ${name}: ${line}`);
    }
  }
  for (const [name, run, start] of targets) {
    run.mem = await phase(start, (t) => idleMemory(t, o.idle));
    console.error(`${name}: ${run.mem.rss.toFixed(0)} B RSS, ${run.mem.heap?.toFixed(0)} B heap per idle session`);
  }

  const hsOurs = median(ours.hs.map((x) => x.rate));
  const hsPeer = median(peer.hs.map((x) => x.rate));
  const rpsOurs = median(ours.rps.map((x) => x.rate));
  const rpsPeer = median(peer.rps.map((x) => x.rate));
  const sum = (xs: Rate[]) => xs.reduce((a, x) => a + x.failed, 0);
  const hsCpuOurs = median(ours.hs.map((x) => x.perCpuSecond));
  const hsCpuPeer = median(peer.hs.map((x) => x.perCpuSecond));
  const rpsCpuOurs = median(ours.rps.map((x) => x.perCpuSecond));
  const rpsCpuPeer = median(peer.rps.map((x) => x.perCpuSecond));
  const { cpus } = await import('node:os');
  return {
    bench: 'dtls',
    peer: 'libcoap coap-server-openssl 4.3 (-k key), same client',
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    params: { ...o, serverFlags: serverFlags.join(' '), suite: 'TLS_PSK_WITH_AES_128_CCM_8', resource: 'GET /time' },
    figures: [
      figure('full PSK handshakes per second (median of rounds)', 'handshakes/s', hsOurs, hsPeer, true),
      figure('CoAP-over-DTLS requests per second (median of rounds)', 'req/s', rpsOurs, rpsPeer, true),
      // Robust to the shared machine: operations per CPU-second of the server process (/proc stat).
      figure('full PSK handshakes per server CPU-second', 'handshakes/cpu-s', hsCpuOurs, hsCpuPeer, true),
      figure('CoAP-over-DTLS requests per server CPU-second', 'req/cpu-s', rpsCpuOurs, rpsCpuPeer, true),
      // Node's RSS moves in heap-segment steps (often negative after a GC at this N), so ours is
      // the V8 heap + external buffers delta after a forced GC; libcoap's is its RSS delta.
      figure('memory per idle session (ours heap+buffers, libcoap RSS)', 'bytes', ours.mem.heap ?? ours.mem.rss, peer.mem.rss, false),
      figure('memory per idle session (ours RSS delta, noisy)', 'bytes', ours.mem.rss, undefined, false),
    ],
    notes: [
      `per round handshakes/s: ours ${ours.hs.map((x) => x.rate.toFixed(0)).join(', ')}; libcoap ${peer.hs.map((x) => x.rate.toFixed(0)).join(', ')}`,
      `per round req/s: ours ${ours.rps.map((x) => x.rate.toFixed(0)).join(', ')}; libcoap ${peer.rps.map((x) => x.rate.toFixed(0)).join(', ')}`,
      `client (this process) per client CPU-second, median: handshakes ${median(ours.hs.map((x) => x.clientPerCpuSecond)).toFixed(0)} against ours, ${median(peer.hs.map((x) => x.clientPerCpuSecond)).toFixed(0)} against libcoap; requests ${median(ours.rps.map((x) => x.clientPerCpuSecond)).toFixed(0)} / ${median(peer.rps.map((x) => x.clientPerCpuSecond)).toFixed(0)}. A figure close to the wall rate means the client saturates its core.`,
      `handshake failures: ours ${sum(ours.hs)}, libcoap ${sum(peer.hs)}; requests lost: ours ${sum(ours.rps)}, libcoap ${sum(peer.rps)}`,
      'The client (ours) runs in the bench process for both servers and shares the 2 cores with them (and with other work on the machine): the per-CPU-second figures are the server efficiency, the per-second ones the closed-loop result.',
      'Server CPU per operation (from the profile, packages/dtls/README.md): a full handshake is ~20% GC, ~18% the UDP send path (4 datagrams out), ~15% HMAC-SHA256 (PRF, cookie: one node:crypto Hmac object per HMAC), ~4% the four AES contexts of the new epoch; a request is Node\'s UDP receive/send path (~7 us, see the coap bench floor), two native AES calls per record each way, CoAP and GC.',
    ],
  };
}

if (process.env.M2MHUB_DTLS_BENCH_CHILD === '1') await childServer();
