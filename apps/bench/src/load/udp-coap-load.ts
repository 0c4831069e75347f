/**
 * A CoAP load generator on raw UDP sockets: keeps `concurrency` confirmable GETs outstanding
 * against one server for `durationMs` and records each round trip. Message IDs never repeat
 * on one socket during a run (RFC 7252 §4.4: a server may treat a reused MID within
 * EXCHANGE_LIFETIME as a duplicate), so it spreads the load over `sockets` source ports.
 */
import { type Socket, createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';

export interface CoapLoadOptions {
  host: string;
  port: number;
  /** Uri-Path segments of the GET. */
  path: string[];
  concurrency: number;
  sockets: number;
  durationMs: number;
  warmupMs: number;
  /** A request with no answer after this long is counted lost and replaced. */
  timeoutMs: number;
  /** Called (and awaited) right before and after the measured window, e.g. to sample server CPU time. */
  onMeasure?: (phase: 'start' | 'end') => Promise<void>;
}

export interface CoapLoadResult {
  completed: number;
  lost: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  midsExhausted: boolean;
}

function encodeGet(path: string[], mid: number, token: number): Buffer {
  const parts: number[] = [0x42, 0x01, (mid >>> 8) & 0xff, mid & 0xff, (token >>> 8) & 0xff, token & 0xff];
  let prev = 0;
  for (const seg of path) {
    const v = Buffer.from(seg, 'utf8');
    const delta = 11 - prev;
    prev = 11;
    if (v.length < 13) parts.push((delta << 4) | v.length);
    else parts.push((delta << 4) | 13, v.length - 13);
    parts.push(...v);
  }
  return Buffer.from(parts);
}

/** Writes MID and token into a copy of the pre-encoded request. */
function stamp(template: Buffer, mid: number, token: number): Buffer {
  const b = Buffer.allocUnsafe(template.length);
  template.copy(b);
  b[2] = (mid >>> 8) & 0xff;
  b[3] = mid & 0xff;
  b[4] = (token >>> 8) & 0xff;
  b[5] = token & 0xff;
  return b;
}

interface SockState {
  sock: Socket;
  nextMid: number;
  used: number;
  outstanding: Map<number, number>;
}

export async function runCoapLoad(o: CoapLoadOptions): Promise<CoapLoadResult> {
  const states: SockState[] = [];
  for (let i = 0; i < o.sockets; i++) {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    states.push({ sock, nextMid: (i * 7919) & 0xffff, used: 0, outstanding: new Map() });
  }
  const latencies: number[] = [];
  let completed = 0;
  let lost = 0;
  let errors = 0;
  let measuring = false;
  let running = true;
  let midsExhausted = false;
  let token = 1;
  const template = encodeGet(o.path, 0, 0);
  const send = (s: SockState) => {
    if (!running) return;
    if (s.used >= 0xffff) {
      midsExhausted = true;
      return;
    }
    const mid = s.nextMid;
    s.nextMid = (mid + 1) & 0xffff;
    s.used++;
    token = (token + 1) & 0xffff;
    s.outstanding.set(mid, performance.now());
    s.sock.send(stamp(template, mid, token), o.port, o.host);
  };
  for (const s of states) {
    s.sock.on('message', (m) => {
      if (m.length < 4) return;
      const mid = (m[2]! << 8) | m[3]!;
      const t0 = s.outstanding.get(mid);
      if (t0 === undefined) return;
      s.outstanding.delete(mid);
      if (measuring) {
        if ((m[0]! & 0x30) !== 0x20 || m[1]! >> 5 !== 2) errors++;
        latencies.push(performance.now() - t0);
        completed++;
      }
      send(s);
    });
  }
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const s of states) {
      for (const [mid, t0] of s.outstanding) {
        if (now - t0 > o.timeoutMs) {
          s.outstanding.delete(mid);
          if (measuring) lost++;
          send(s);
        }
      }
    }
  }, 50);
  for (let i = 0; i < o.concurrency; i++) send(states[i % states.length]!);
  await new Promise((r) => setTimeout(r, o.warmupMs));
  await o.onMeasure?.('start');
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, o.durationMs));
  measuring = false;
  const elapsed = performance.now() - start;
  await o.onMeasure?.('end');
  running = false;
  clearInterval(sweep);
  await new Promise((r) => setTimeout(r, 100));
  for (const s of states) s.sock.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? Number.NaN;
  return {
    completed,
    lost,
    errors,
    rps: (completed / elapsed) * 1000,
    p50Ms: pct(50),
    p99Ms: pct(99),
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    midsExhausted,
  };
}

/** Sends CoAP pings until the server at host:port answers (RST), or throws after `ms`. */
export async function waitForCoap(host: string, port: number, ms = 10_000): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  try {
    await new Promise<void>((resolve, reject) => {
      const iv = setInterval(() => sock.send(Buffer.from([0x40, 0, 0x55, 0x55]), port, host), 100);
      const to = setTimeout(() => {
        clearInterval(iv);
        reject(new Error(`no CoAP server on ${host}:${port}`));
      }, ms);
      sock.on('message', () => {
        clearInterval(iv);
        clearTimeout(to);
        resolve();
      });
    });
  } finally {
    sock.close();
  }
}
