import { type Socket, createSocket } from 'node:dgram';
import { type CoapOption, OptionNumber, serializeMessage, uintOption } from '@m2mhub/coap';

export interface RegisterLoadOptions {
  host: string;
  port: number;
  /** Devices to register; endpoint names are `${prefix}${i}`. */
  devices: number;
  prefix?: string;
  /** UDP sockets the load is spread over (each device still has a distinct `ep`). */
  sockets?: number;
  /** Outstanding Registers per socket. */
  window?: number;
  lifetime?: number;
  payload?: string;
  /** A Register without an answer after this long is sent again (same message id: the server deduplicates). */
  retransmitMs?: number;
  /** Gives up when no answer arrived for this long. */
  stallMs?: number;
}

export interface RegisterLoadResult {
  sent: number;
  created: number;
  otherCodes: Record<string, number>;
  retransmits: number;
  elapsedMs: number;
  /** Register round-trip latencies in ms (first send to answer). */
  latencies: number[];
}

/**
 * A Register flood from pre-encoded CoAP datagrams (RFC 7252 §3, LwM2M Core §6.2.1), for
 * benchmarks with 10k-100k devices: a socket per device is too many, so a few sockets carry
 * many endpoints. It is not a device simulator (it answers nothing).
 */
export async function registerLoad(opts: RegisterLoadOptions): Promise<RegisterLoadResult> {
  const nSockets = opts.sockets ?? 8;
  const window = opts.window ?? 32;
  const prefix = opts.prefix ?? 'bench-';
  const payload = new TextEncoder().encode(opts.payload ?? '</1/0>,</3/0>,</3303/0>');
  const lt = String(opts.lifetime ?? 86_400);
  const retransmitMs = opts.retransmitMs ?? 2_000;
  const stallMs = opts.stallMs ?? 20_000;
  const sockets: Socket[] = [];
  for (let i = 0; i < nSockets; i++) {
    const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 } as Parameters<typeof createSocket>[0]);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    sockets.push(s);
  }
  const enc = (s: string) => new TextEncoder().encode(s);
  const build = (i: number, mid: number): Uint8Array => {
    const options: CoapOption[] = [
      { number: OptionNumber.UriPath, value: enc('rd') },
      uintOption(OptionNumber.ContentFormat, 40),
      { number: OptionNumber.UriQuery, value: enc(`ep=${prefix}${i}`) },
      { number: OptionNumber.UriQuery, value: enc(`lt=${lt}`) },
      { number: OptionNumber.UriQuery, value: enc('lwm2m=1.1') },
      { number: OptionNumber.UriQuery, value: enc('b=U') },
    ];
    const token = new Uint8Array([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]);
    return serializeMessage({ type: 'CON', code: '0.02', messageId: mid, token, options, payload });
  };
  const result: RegisterLoadResult = { sent: 0, created: 0, otherCodes: {}, retransmits: 0, elapsedMs: 0, latencies: [] };
  // Pre-encoded before the clock starts: the load generator must not be what is measured.
  const datagrams: Uint8Array[] = [];
  for (let i = 0; i < opts.devices; i++) datagrams.push(build(i, i & 0xffff));
  const start = performance.now();
  let done = 0;
  let lastProgress = start;
  await new Promise<void>((resolve, reject) => {
    const perSocket = Math.ceil(opts.devices / nSockets);
    let finishedSockets = 0;
    sockets.forEach((sock, si) => {
      const first = si * perSocket;
      const last = Math.min(opts.devices, first + perSocket);
      let next = first;
      // message id -> [device index, first sent at, last sent at, bytes]
      const inflight = new Map<number, { i: number; at: number; sentAt: number; data: Uint8Array }>();
      const pump = () => {
        while (inflight.size < window && next < last) {
          const i = next++;
          const mid = i & 0xffff;
          const data = datagrams[i]!;
          const now = performance.now();
          inflight.set(mid, { i, at: now, sentAt: now, data });
          sock.send(data, opts.port, opts.host);
          result.sent++;
        }
        if (inflight.size === 0 && next >= last) {
          finishedSockets++;
          if (finishedSockets === nSockets) resolve();
        }
      };
      sock.on('message', (buf) => {
        if (buf.length < 4) return;
        const type = (buf[0]! >> 4) & 3;
        if (type !== 2) return; // ACK (piggybacked response)
        const mid = (buf[2]! << 8) | buf[3]!;
        const e = inflight.get(mid);
        if (!e) return;
        inflight.delete(mid);
        const code = `${buf[1]! >> 5}.${String(buf[1]! & 31).padStart(2, '0')}`;
        if (code === '2.01') result.created++;
        else result.otherCodes[code] = (result.otherCodes[code] ?? 0) + 1;
        const now = performance.now();
        result.latencies.push(now - e.at);
        lastProgress = now;
        done++;
        pump();
      });
      const timer = setInterval(() => {
        const now = performance.now();
        for (const e of inflight.values()) {
          if (now - e.sentAt > retransmitMs) {
            e.sentAt = now;
            result.retransmits++;
            sock.send(e.data, opts.port, opts.host);
          }
        }
        if (now - lastProgress > stallMs) {
          clearInterval(timer);
          reject(new Error(`register load stalled at ${done}/${opts.devices}`));
        }
        if (inflight.size === 0 && next >= last) clearInterval(timer);
      }, 250);
      timer.unref();
      pump();
    });
  }).finally(() => {
    for (const s of sockets) s.close();
  });
  result.elapsedMs = performance.now() - start;
  return result;
}
