import type { Datagram, DatagramTransport, PeerAddress } from '@m2mhub/core';
import { peerKeyOf } from '@m2mhub/core';
import { type ConnectDtlsOptions, DtlsClientSocket } from '@m2mhub/dtls';

/**
 * A device's DTLS 1.2 PSK connection to one server (RFC 6347, RFC 4279) as a DatagramTransport,
 * so the simulator's CoAP endpoint runs over it unchanged. `start` runs the handshake.
 */
export class DtlsClientTransport implements DatagramTransport {
  readonly kind = 'dtls' as const;
  private socket: DtlsClientSocket | undefined;
  private handler: (d: Datagram) => void = () => {};
  private readonly server: PeerAddress;

  constructor(private readonly opts: ConnectDtlsOptions) {
    const host = opts.host ?? '127.0.0.1';
    this.server = { address: host, port: opts.port, family: host.includes(':') ? 'IPv6' : 'IPv4' };
  }

  async start(): Promise<void> {
    this.socket = await DtlsClientSocket.connect(this.opts);
    this.socket.onData((data) => this.handler({ data, peer: this.server, peerKey: peerKeyOf(this.server) }));
  }

  send(data: Uint8Array, peer: PeerAddress): void {
    if (!this.socket) throw new Error('DTLS transport not started');
    if (peer.port !== this.server.port) throw new Error('a DTLS client transport talks to its server only');
    this.socket.send(data);
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.socket?.close();
    this.socket = undefined;
  }

  address(): PeerAddress {
    return { address: '127.0.0.1', port: this.socket?.localPort ?? 0, family: 'IPv4' };
  }
}
