import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { PeerAddress } from '@m2mhub/core';
import { CoapEndpoint, type CoapEndpointOptions } from '../src/endpoint';
import { UdpTransport } from '../src/udp-transport';

/** An endpoint on a real UDP socket, 127.0.0.1, ephemeral port. */
export async function udpEndpoint(opts: Partial<CoapEndpointOptions> = {}): Promise<CoapEndpoint> {
  const ep = new CoapEndpoint({ transport: new UdpTransport({ address: '127.0.0.1', port: 0 }), ...opts });
  await ep.start();
  return ep;
}

export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Asserts a binary is installed (tests that need one FAIL without it, never skip). */
export function requireBinary(name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed (apt-get install libcoap3-bin)`);
  }
}

/** A currently free UDP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export interface LibcoapServer {
  peer: PeerAddress;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Sends an Empty CON (CoAP ping) from a raw socket every 100 ms until an RST comes back or `ms` pass. */
async function rawPing(port: number, ms: number): Promise<boolean> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  try {
    return await new Promise<boolean>((resolve) => {
      const iv = setInterval(() => sock.send(Uint8Array.of(0x40, 0, 0x12, 0x34), port, '127.0.0.1'), 100);
      const to = setTimeout(() => {
        clearInterval(iv);
        resolve(false);
      }, ms);
      sock.on('message', (m) => {
        if (m.length === 4 && (m[0]! & 0x30) === 0x30) {
          clearInterval(iv);
          clearTimeout(to);
          resolve(true);
        }
      });
    });
  } finally {
    sock.close();
  }
}

/** Starts Debian's coap-server-openssl on a free port and waits until it answers a ping. */
export async function startLibcoapServer(extraArgs: string[] = []): Promise<LibcoapServer> {
  const bin = requireBinary('coap-server-openssl');
  let stderr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeUdpPort();
    const proc = spawn(bin, ['-A', '127.0.0.1', '-p', String(port), '-v', '3', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (b: Buffer) => {
      if (stderr.length < 4000) stderr += b.toString();
    });
    if (await rawPing(port, 5000)) {
      const peer: PeerAddress = { address: '127.0.0.1', port, family: 'IPv4' };
      return {
        peer,
        proc,
        stop: () =>
          new Promise<void>((r) => {
            if (proc.exitCode !== null) return r();
            proc.once('exit', () => r());
            proc.kill('SIGTERM');
          }),
      };
    }
    proc.kill('SIGKILL');
  }
  throw new Error(`coap-server-openssl did not start: ${stderr}`);
}

/** Runs coap-client-openssl asynchronously (our server runs in this process). */
export function coapClient(args: string[], timeoutMs = 20_000): Promise<{ stdout: string; stderr: string; code: number }> {
  const bin = requireBinary('coap-client-openssl');
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}
