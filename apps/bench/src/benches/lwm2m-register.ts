/**
 * LwM2M registrations per second and memory per registered device (issue #5).
 *
 * The server runs in a child process (`node --expose-gc`) so its heap is measured alone;
 * this process floods it with pre-encoded Register datagrams from a few UDP sockets, each
 * Register with a distinct `ep` (100k sockets would be too many). There is no LwM2M peer
 * on this machine to compare with: the figures are absolute.
 *
 * Args: --devices N (100000), --sockets N (8), --window N (32 per socket),
 * --profile DIR (writes a V8 CPU profile of the server child there).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BenchReport, figure, percentile } from '../report';

interface ChildMsg {
  t: 'ready' | 'heap';
  port?: number;
  heapUsed?: number;
  rss?: number;
  registrations?: number;
  dedupEntries?: number;
}

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

function ask(child: ChildProcess, cmd: string): Promise<ChildMsg> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as ChildMsg));
    child.send(cmd);
  });
}

export default async function lwm2mRegister(args: string[]): Promise<BenchReport> {
  const devices = arg(args, 'devices', 100_000);
  const sockets = arg(args, 'sockets', 8);
  const window = arg(args, 'window', 32);
  // V8 young generation size (MiB) for the server child; 0 keeps Node's default.
  const semi = arg(args, 'semi-space', 0);
  const pi = args.indexOf('--profile');
  const profile = pi >= 0 ? args[pi + 1] : undefined;
  const { registerLoad } = await import('@m2mhub/simulator');
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: [
      '--expose-gc',
      '--conditions=m2mhub-source',
      '--import',
      'tsx',
      '--max-old-space-size=2048',
      ...(semi > 0 ? [`--max-semi-space-size=${semi}`] : []),
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    ],
    env: { ...process.env, M2MHUB_LWM2M_BENCH_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ready = await new Promise<ChildMsg>((resolve) => child.once('message', (m) => resolve(m as ChildMsg)));
    const base = await ask(child, 'heap');
    const load = await registerLoad({ host: '127.0.0.1', port: ready.port!, devices, sockets, window });
    const full = await ask(child, 'heap');
    const stateOnly = await ask(child, 'close-endpoint');
    const lat = load.latencies.sort((a, b) => a - b);
    const perDevice = (full.heapUsed! - base.heapUsed!) / devices;
    const perDeviceState = (stateOnly.heapUsed! - base.heapUsed!) / devices;
    return {
      bench: 'lwm2m-register',
      peer: 'none (no LwM2M server peer on this machine; absolute figures)',
      startedAt: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      params: { devices, sockets, window, semiSpaceMiB: semi, payload: '</1/0>,</3/0>,</3303/0>', lifetime: 86400 },
      figures: [
        figure('registrations per second', 'reg/s', (load.created / load.elapsedMs) * 1000, undefined),
        figure('register latency p50', 'ms', percentile(lat, 50), undefined, false),
        figure('register latency p99', 'ms', percentile(lat, 99), undefined, false),
        figure('heap per registered device (incl. CoAP dedup cache)', 'bytes', perDevice, undefined, false),
        figure('heap per registered device (registration state only)', 'bytes', perDeviceState, undefined, false),
        figure('server RSS after load', 'MiB', full.rss! / 1048576, undefined, false),
      ],
      notes: [
        `created ${load.created}/${devices}, other codes ${JSON.stringify(load.otherCodes)}, retransmits ${load.retransmits}`,
        `registrations in store ${full.registrations}, CoAP dedup entries ${full.dedupEntries}`,
        'heap measured after global.gc() in the server child; "state only" is after closing the CoAP endpoint (dedup cache freed; it expires after EXCHANGE_LIFETIME anyway)',
      ],
    };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.send('exit');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    child.kill();
  }
}

async function childMain(): Promise<void> {
  const { UdpTransport } = await import('@m2mhub/coap');
  const { createLwm2mServer, createServerEndpoint } = await import('@m2mhub/lwm2m');
  const server = createLwm2mServer();
  const ep = createServerEndpoint(server, {
    transport: new UdpTransport({ address: '127.0.0.1', port: 0, recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 }),
  });
  await ep.start();
  const gc = (globalThis as { gc?: () => void }).gc!;
  const heap = async (): Promise<ChildMsg> => {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      gc();
    }
    const m = process.memoryUsage();
    return { t: 'heap', heapUsed: m.heapUsed, rss: m.rss, registrations: await server.registrations.count(), dedupEntries: ep.stats().dedupEntries };
  };
  process.on('message', async (cmd) => {
    if (cmd === 'heap') process.send!(await heap());
    if (cmd === 'exit') process.exit(0);
    if (cmd === 'close-endpoint') {
      await ep.close();
      process.send!(await heap());
    }
  });
  process.send!({ t: 'ready', port: ep.address().port });
}

if (process.env.M2MHUB_LWM2M_BENCH_CHILD === '1') void childMain();
