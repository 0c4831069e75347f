/**
 * Many complete simulated LwM2M devices in one process (each with its own UDP socket and
 * CoAP endpoint) against the LwM2M server in this process: register time, one Read of each,
 * and the heap per simulated device. No LwM2M peer here: absolute figures.
 *
 * Args: --devices N (2000).
 */
import { type BenchReport, figure, percentile } from '../report';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

export default async function lwm2mDevices(args: string[]): Promise<BenchReport> {
  const n = arg(args, 'devices', 2000);
  const { UdpTransport } = await import('@m2mhub/coap');
  const { createLwm2mServer, createServerEndpoint } = await import('@m2mhub/lwm2m');
  const { SimulatedDevice, basicProfile, startDevice } = await import('@m2mhub/simulator');
  const server = createLwm2mServer();
  const ep = createServerEndpoint(server, { transport: new UdpTransport({ address: '127.0.0.1', port: 0 }) });
  await ep.start();
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const before = heap();
  const devices = [];
  const endpoints = [];
  for (let i = 0; i < n; i++) {
    const d = new SimulatedDevice({ ...basicProfile(`sim-${i}`, '1.1'), server: ep.address() });
    endpoints.push(await startDevice(d));
    devices.push(d);
  }
  const t0 = performance.now();
  const batch = 200;
  for (let i = 0; i < n; i += batch) await Promise.all(devices.slice(i, i + batch).map((d) => d.register()));
  const registerMs = performance.now() - t0;
  const lat: number[] = [];
  const t1 = performance.now();
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      devices.slice(i, i + batch).map(async (d) => {
        const s = performance.now();
        const r = await server.read(d.endpoint, '/3303/0');
        if (!r.ok) throw new Error(`read ${d.endpoint}: ${r.code}`);
        lat.push(performance.now() - s);
      }),
    );
  }
  const readMs = performance.now() - t1;
  const after = heap();
  for (const e of endpoints) await e.close();
  await ep.close();
  await server.close();
  lat.sort((a, b) => a - b);
  return {
    bench: 'lwm2m-devices',
    peer: 'none (no LwM2M peer on this machine; absolute figures)',
    startedAt: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    params: { devices: n, batch, gcExposed: gc !== undefined },
    figures: [
      figure('registrations per second (full simulated devices)', 'reg/s', (n / registerMs) * 1000, undefined),
      figure('reads per second (SenML CBOR instance read)', 'read/s', (n / readMs) * 1000, undefined),
      figure('read latency p50', 'ms', percentile(lat, 50), undefined, false),
      figure('read latency p99', 'ms', percentile(lat, 99), undefined, false),
      figure('heap per simulated device + its registration', 'bytes', (after - before) / n, undefined, false),
    ],
    notes: ['server and devices share this process; run with node --expose-gc for exact heap figures'],
  };
}
