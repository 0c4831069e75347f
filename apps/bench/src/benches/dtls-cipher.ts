/**
 * Record cipher backends: node:crypto (OpenSSL) against @noble/ciphers, per protected DTLS
 * record (seal + open of a `--size` byte record through the real RecordProtection, AAD and
 * nonce included), in records per CPU-second (best of 3 alternating trials). Decides which backend
 * the DTLS hot path uses (DEFAULT_CIPHER_BACKEND). Per suite: node:crypto (the default backend,
 * for CCM_8 on persistent contexts, 'node-stream') against the noble reference, and for CCM_8
 * also the persistent contexts against one node:crypto CCM context per record ('node').
 *
 * Args: --size N (100), --iterations N (100000).
 */
import { systemRandom } from '@m2mhub/core';
import { type CipherBackend, createProtection, suiteById } from '@m2mhub/dtls';
import { type BenchReport, figure } from '../report';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

function rate(backend: CipherBackend, suiteId: number, size: number, n: number): number {
  const suite = suiteById(suiteId);
  if (!suite) throw new Error(`no suite ${suiteId}`);
  const keys = { macKey: systemRandom.bytes(suite.macKeyLength), key: systemRandom.bytes(16), iv: systemRandom.bytes(suite.fixedIvLength) };
  const p = createProtection(suite, keys, backend, systemRandom);
  const pt = systemRandom.bytes(size);
  const once = (seq: number) => {
    const frag = p.seal(23, 0xfefd, 1, seq, undefined, pt);
    if (!p.open(23, 0xfefd, 1, seq, undefined, frag)) throw new Error('open failed');
  };
  for (let i = 0; i < Math.min(5000, n); i++) once(i);
  // CPU time of this process, not wall time: the machine is shared, wall time measures the neighbours.
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) once(i);
  const c = process.cpuUsage(c0);
  return (n / ((c.user + c.system) / 1000)) * 1000;
}

export default async function dtlsCipher(args: string[]): Promise<BenchReport> {
  const size = arg(args, 'size', 100);
  const n = arg(args, 'iterations', 100_000);
  const figures = [];
  for (const [name, id] of [
    ['TLS_PSK_WITH_AES_128_CCM_8', 0xc0a8],
    ['TLS_PSK_WITH_AES_128_GCM_SHA256', 0x00a8],
    ['TLS_PSK_WITH_AES_128_CBC_SHA256', 0x00ae],
  ] as const) {
    // Three alternating trials per backend; the best of each (least disturbed) counts.
    let stream = 0;
    let node = 0;
    let noble = 0;
    for (let trial = 0; trial < 3; trial++) {
      stream = Math.max(stream, rate('node-stream', id, size, n));
      node = Math.max(node, rate('node', id, size, n));
      noble = Math.max(noble, rate('noble', id, size, n));
    }
    figures.push(figure(`${name} seal+open ${size} B (ours node:crypto, peer noble)`, 'records/s', stream, noble, true));
    if (id === 0xc0a8) {
      figures.push(figure(`${name} seal+open ${size} B (ours persistent CBC+ECB contexts, peer one CCM context per record)`, 'records/s', stream, node, true));
    }
  }
  const { cpus } = await import('node:os');
  return {
    bench: 'dtls-cipher',
    peer: '@noble/ciphers 2.x (the tested reference backend)',
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    params: { size, iterations: n },
    figures,
    notes: [
      'ratio > 1 means ours is faster. DEFAULT_CIPHER_BACKEND = "node-stream": CCM_8 on one persistent aes-128-cbc (CBC-MAC) and one aes-128-ecb (CTR key stream) context per key; GCM and CBC-SHA256 as "node".',
    ],
  };
}
