/**
 * The DTLS transport: a UDP socket in front of the DtlsServer engine, implementing the
 * DatagramTransport port (DESIGN.md §2) so CoAP runs on it as on plain UDP. Each datagram
 * carries the peer's authenticated identity and, with CID, the CID as peerKey (RFC 9146).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Datagram, DatagramTransport, PeerAddress } from '@m2mhub/core';
import { peerKeyOf, silentLogger, toHex } from '@m2mhub/core';
import { CoreErrors } from '@m2mhub/core';
import { loadPemCredentials } from './pki/index';
import { DtlsServer, type DtlsServerOptions, type DtlsSession } from './server';

export interface DtlsTransportOptions extends DtlsServerOptions {
  /** UDP port; 0 (default) for an ephemeral one. */
  port?: number;
  /** Bind address; default 127.0.0.1. */
  bind?: string;
  /** PEM certificate chain (leaf first) and PEM private key; shorthand for `credentials`. */
  certificatePem?: string;
  privateKeyPem?: string;
  /** Kernel receive buffer size in bytes (SO_RCVBUF), for bursts of handshakes. */
  recvBufferSize?: number;
}

export interface DtlsTransport extends DatagramTransport {
  readonly server: DtlsServer;
}

/**
 * Peers are always IP literals (from rinfo), so resolve them synchronously: dgram's default
 * dns.lookup defers every send to the next tick.
 */
export function ipLiteralLookup(family: 'IPv4' | 'IPv6') {
  const f = family === 'IPv6' ? 6 : 4;
  return (host: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void) => cb(null, host, f);
}

export function sessionPeerKey(s: DtlsSession): string {
  return s.readCid && s.readCid.length > 0 ? `cid:${toHex(s.readCid)}` : peerKeyOf(s.peer);
}

export function createDtlsTransport(opts: DtlsTransportOptions = {}): DtlsTransport {
  const handlers: ((d: Datagram) => void)[] = [];
  let socket: Socket | undefined;
  const bind = opts.bind ?? '127.0.0.1';
  const family = bind.includes(':') ? 'IPv6' : 'IPv4';
  const log = opts.logger ?? silentLogger;
  const serverOpts: DtlsServerOptions = { ...opts };
  if (!opts.credentials && opts.certificatePem && opts.privateKeyPem) {
    serverOpts.credentials = loadPemCredentials(opts.certificatePem, opts.privateKeyPem);
  }
  const server = new DtlsServer(serverOpts, {
    send: (d, peer) => socket?.send(d, peer.port, peer.address),
    onData: (s, data) => {
      const dg: Datagram = { data, peer: s.peer, peerKey: sessionPeerKey(s) };
      if (s.identity) dg.identity = s.identity;
      for (const h of handlers) {
        try {
          h(dg);
        } catch (err) {
          // A consumer's bug must not tear down the DTLS session it was called from.
          log.warn({ peer: dg.peerKey, err: String(err) }, 'datagram handler threw');
        }
      }
    },
  });
  return {
    kind: 'dtls',
    server,
    start() {
      return new Promise<void>((resolve, reject) => {
        const s = createSocket({ type: family === 'IPv6' ? 'udp6' : 'udp4', lookup: ipLiteralLookup(family) });
        socket = s;
        s.once('error', reject);
        s.on('message', (msg, rinfo) => {
          const peer: PeerAddress = { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
          server.handleDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), peer);
        });
        s.bind(opts.port ?? 0, bind, () => {
          s.off('error', reject);
          if (opts.recvBufferSize) s.setRecvBufferSize(opts.recvBufferSize);
          s.on('error', () => {});
          resolve();
        });
      });
    },
    send(data, peer) {
      if (!server.send(peer, data)) throw CoreErrors.closed(`no DTLS session with ${peerKeyOf(peer)}`);
    },
    onDatagram(h) {
      handlers.push(h);
    },
    close() {
      server.close();
      return new Promise<void>((resolve) => {
        if (!socket) return resolve();
        socket.close(() => resolve());
        socket = undefined;
      });
    },
    address() {
      if (!socket) throw CoreErrors.closed('transport not started');
      const a = socket.address();
      return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    },
  };
}
