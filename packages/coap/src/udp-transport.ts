/** The DatagramTransport port over Node's UDP sockets (IPv4 `udp4` or IPv6 `udp6`). A thin adapter: no protocol logic. */
import { type Socket, createSocket } from 'node:dgram';
import { type LookupOptions, lookup } from 'node:dns';
import { isIPv4 } from 'node:net';
import { CoreErrors, type Datagram, type DatagramTransport, type Logger, type PeerAddress, silentLogger } from '@m2mhub/core';

export interface UdpTransportOptions {
  /** Default "udp4". */
  type?: 'udp4' | 'udp6';
  /** Bind address; default "0.0.0.0" (udp4) or "::" (udp6). */
  address?: string;
  /** Bind port; 0 (default) picks an ephemeral port. */
  port?: number;
  /** Socket receive/send buffer sizes in bytes (OS default when absent). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** udp6 only: do not accept IPv4-mapped traffic. */
  ipv6Only?: boolean;
  /**
   * Peers whose PeerAddress and peerKey are kept and reused for their next datagrams (saves
   * building both per datagram), and IP literals whose family is kept for sends; each cache is
   * emptied when it reaches this size. Default 10,000.
   */
  peerCacheSize?: number;
  logger?: Logger;
}

const DEFAULT_PEER_CACHE_SIZE = 10_000;

interface CachedPeer {
  readonly peer: PeerAddress;
  readonly key: string;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * Peers are IP literals (they come from `rinfo`): answer at once instead of going through
 * dns.lookup, which defers every send by a tick. Host names still go to dns.lookup.
 */
function literalLookupWith(cacheSize: number): (host: string, opts: unknown, cb: LookupCallback) => void {
  // IP literals already recognised, with their family; emptied when full. Peers' address
  // strings are shared by their datagrams (peer cache below), so their hash is computed once
  // and the IPv4 regex runs once per peer instead of once per send.
  const families = new Map<string, 4 | 6>();
  return (host, opts, cb) => {
    const known = families.get(host);
    if (known !== undefined) {
      cb(null, host, known);
      return;
    }
    const c = host.charCodeAt(0);
    const family = host.includes(':') ? 6 : c >= 48 && c <= 57 && isIPv4(host) ? 4 : 0;
    if (family === 0) {
      lookup(host, opts as LookupOptions, cb as never);
      return;
    }
    if (families.size >= cacheSize) families.clear();
    families.set(host, family);
    cb(null, host, family);
  };
}

export class UdpTransport implements DatagramTransport {
  readonly kind = 'udp' as const;
  private socket: Socket | undefined;
  private handler: (d: Datagram) => void = () => {};
  private bound: PeerAddress | undefined;
  private readonly logger: Logger;
  /** address -> port -> the frozen PeerAddress and its key, shared by every datagram of that peer. */
  private readonly peerCache = new Map<string, Map<number, CachedPeer>>();
  private peerCacheCount = 0;

  constructor(private readonly options: UdpTransportOptions = {}) {
    this.logger = options.logger ?? silentLogger;
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  start(): Promise<void> {
    if (this.socket) return Promise.resolve();
    const type = this.options.type ?? 'udp4';
    const literalLookup = literalLookupWith(this.options.peerCacheSize ?? DEFAULT_PEER_CACHE_SIZE);
    const socket = createSocket({ type, ipv6Only: this.options.ipv6Only ?? false, lookup: literalLookup });
    this.socket = socket;
    socket.on('message', (buf, rinfo) => {
      const data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      const c = this.peerOf(rinfo.address, rinfo.port, rinfo.family);
      try {
        this.handler({ data, peer: c.peer, peerKey: c.key });
      } catch (err) {
        // The handler must not throw; if it does, the socket survives.
        this.logger.error({ err }, 'datagram handler threw');
      }
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        this.socket = undefined;
        reject(err);
      };
      socket.once('error', onError);
      socket.bind({ port: this.options.port ?? 0, address: this.options.address ?? (type === 'udp6' ? '::' : '0.0.0.0') }, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.logger.warn({ err }, 'udp socket error'));
        if (this.options.recvBufferSize) socket.setRecvBufferSize(this.options.recvBufferSize);
        if (this.options.sendBufferSize) socket.setSendBufferSize(this.options.sendBufferSize);
        const a = socket.address();
        this.bound = { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
        resolve();
      });
    });
  }

  private peerOf(address: string, port: number, fam: string): CachedPeer {
    let byPort = this.peerCache.get(address);
    const hit = byPort?.get(port);
    if (hit) return hit;
    if (this.peerCacheCount >= (this.options.peerCacheSize ?? DEFAULT_PEER_CACHE_SIZE)) {
      this.peerCache.clear();
      this.peerCacheCount = 0;
      byPort = undefined;
    }
    const family = fam === 'IPv6' ? 'IPv6' : 'IPv4';
    const peer: PeerAddress = Object.freeze({ address, port, family });
    const c: CachedPeer = { peer, key: family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}` };
    if (!byPort) {
      byPort = new Map();
      this.peerCache.set(address, byPort);
    }
    byPort.set(port, c);
    this.peerCacheCount++;
    return c;
  }

  send(data: Uint8Array, peer: PeerAddress): void {
    const s = this.socket;
    if (!s) throw CoreErrors.closed('udp transport not started');
    // No callback: a failed send is emitted as the socket's 'error' event (logged above),
    // which saves a closure and a tick per datagram on the hot path.
    s.send(data, peer.port, peer.address);
  }

  address(): PeerAddress {
    if (!this.bound) throw CoreErrors.closed('udp transport not started');
    return this.bound;
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
