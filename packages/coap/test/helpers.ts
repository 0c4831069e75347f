import { execFileSync } from 'node:child_process';
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
