/**
 * The DTLS client: a sans-I/O engine (`DtlsClient`) for fake-clock tests and a UDP adapter
 * (`connectDtls`) for interop tests and the benchmark.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { M2MError, PeerAddress, Random, Scheduler } from '@m2mhub/core';
import { systemScheduler } from '@m2mhub/core';
import { type DtlsLimits, DEFAULT_CIPHER_BACKEND, resolveLimits } from './config';
import { Connection } from './connection';
import type { CipherBackend } from './crypto/aead';
import { CIPHER_SUITES } from './crypto/suites';
import { DtlsErrors } from './errors';
import { type ClientEcdheOptions, ClientHandshake, type ClientSession } from './handshake/client-handshake';
import { pooledSystemRandom } from './pooled-random';
import { parseRecords } from './record/codec';

export type { ClientEcdheOptions, ClientSession };

export interface DtlsClientOptions {
  /** PSK credentials (RFC 4279). */
  psk?: { identity: string; key: Uint8Array };
  /** ECDHE_ECDSA: how to check the server (trust store / pinned raw keys) and our own key. */
  ecdhe?: ClientEcdheOptions;
  /** Suites to offer, in order; default the PSK suites (with `psk`), then ECDHE_ECDSA (with `ecdhe`). */
  cipherSuites?: number[];
  /** Offer a connection id (RFC 9146) of this many random bytes; 0 offers an empty one (send-only). */
  cidLength?: number;
  recordSizeLimit?: number;
  /** A session from an earlier handshake to resume. */
  resume?: ClientSession;
  limits?: Partial<DtlsLimits>;
  scheduler?: Scheduler;
  random?: Random;
  cipherBackend?: CipherBackend;
}

export interface DtlsClientHooks {
  send(datagram: Uint8Array): void;
  onData(data: Uint8Array): void;
  onEstablished?(): void;
  onClosed?(err?: M2MError): void;
}

export class DtlsClient {
  readonly conn: Connection;
  private readonly hs: ClientHandshake;
  private readonly limits: DtlsLimits;

  constructor(
    opts: DtlsClientOptions,
    server: PeerAddress,
    hooks: DtlsClientHooks,
  ) {
    this.limits = resolveLimits(opts.limits);
    const random = opts.random ?? pooledSystemRandom(this.limits.randomPoolSize);
    const scheduler = opts.scheduler ?? systemScheduler;
    this.conn = new Connection(
      {
        role: 'client',
        limits: this.limits,
        scheduler,
        random,
        backend: opts.cipherBackend ?? DEFAULT_CIPHER_BACKEND,
        hooks: {
          send: (d) => hooks.send(d),
          onData: (_c, d) => hooks.onData(d),
          onEstablished: () => hooks.onEstablished?.(),
          onClosed: (_c, err) => hooks.onClosed?.(err),
        },
      },
      server,
    );
    const defaultSuites = CIPHER_SUITES.filter((s) => (s.keyExchange === 'psk' ? opts.psk : opts.ecdhe)).map((s) => s.id);
    const hsOpts: ConstructorParameters<typeof ClientHandshake>[1] = {
      suites: opts.cipherSuites ?? defaultSuites,
      random,
      wallNow: () => scheduler.wallNow(),
    };
    if (opts.psk) hsOpts.psk = opts.psk;
    if (opts.ecdhe) hsOpts.ecdhe = opts.ecdhe;
    if (opts.cidLength !== undefined) hsOpts.cid = random.bytes(opts.cidLength);
    if (opts.recordSizeLimit !== undefined) hsOpts.recordSizeLimit = opts.recordSizeLimit;
    if (opts.resume) hsOpts.resume = opts.resume;
    this.hs = new ClientHandshake(this.conn, hsOpts);
    this.conn.handshake = this.hs;
  }

  start(): void {
    this.hs.start();
  }

  handleDatagram(data: Uint8Array, from: PeerAddress = this.conn.peer): void {
    if (this.conn.state === 'closed') return;
    const cidLen = this.conn.readCid?.length ?? 0;
    this.conn.receive(parseRecords(data, cidLen, this.limits.maxRecordsPerDatagram, this.limits.maxRecordSize + 2048), from);
  }

  send(data: Uint8Array): void {
    this.conn.sendApplicationData(data);
  }

  get state(): Connection['state'] {
    return this.conn.state;
  }

  /** The session for later resumption (after the handshake). */
  get session(): ClientSession | undefined {
    return this.hs.session;
  }

  close(): void {
    this.conn.closeNotify();
  }
}

export interface ConnectDtlsOptions extends DtlsClientOptions {
  host?: string;
  port: number;
  /** Overall handshake deadline of the returned promise. */
  timeoutMs?: number;
  /** Local UDP port to bind; 0 (default) for an ephemeral one. */
  localPort?: number;
}

/** A DTLS client over a UDP socket. */
export class DtlsClientSocket {
  private socket: Socket;
  private dataHandlers: ((d: Uint8Array) => void)[] = [];
  readonly client: DtlsClient;

  private constructor(
    opts: ConnectDtlsOptions,
    private readonly server: PeerAddress,
  ) {
    this.socket = this.newSocket();
    this.client = new DtlsClient(opts, server, {
      send: (d) => {
        this.inFlight++;
        this.socket.send(d, server.port, server.address, () => {
          this.inFlight--;
          if (this.inFlight === 0 && this.closing) this.closeSocket();
        });
      },
      onData: (d) => {
        for (const h of this.dataHandlers) h(d);
      },
      onEstablished: () => this.settle?.(),
      onClosed: (err) => {
        this.fail?.(err ?? DtlsErrors.closed());
        this.closeSocket();
      },
    });
  }

  private inFlight = 0;
  private closing = false;

  /** Closes the socket once the datagrams already handed to it (an alert, close_notify) are out. */
  private closeSocket(): void {
    this.closing = true;
    if (this.inFlight > 0) return;
    try {
      this.socket.close();
    } catch {}
  }

  private settle: (() => void) | undefined;
  private fail: ((err: Error) => void) | undefined;

  private newSocket(): Socket {
    // The server is an IP literal: resolve it synchronously (dgram's dns.lookup defers each send a tick).
    const f = this.server.family === 'IPv6' ? 6 : 4;
    const type = this.server.family === 'IPv6' ? 'udp6' : 'udp4';
    const s = isIP(this.server.address)
      ? createSocket({ type, lookup: (host: string, _o: unknown, cb: (e: Error | null, a: string, f: number) => void) => cb(null, host, f) })
      : createSocket(type);
    s.on('message', (msg, rinfo) => {
      if (rinfo.port !== this.server.port) return;
      this.client.handleDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), this.server);
    });
    s.on('error', () => {});
    return s;
  }

  static async connect(opts: ConnectDtlsOptions): Promise<DtlsClientSocket> {
    const host = opts.host ?? '127.0.0.1';
    const server: PeerAddress = { address: host, port: opts.port, family: host.includes(':') ? 'IPv6' : 'IPv4' };
    const c = new DtlsClientSocket(opts, server);
    try {
      await new Promise<void>((res, rej) => {
        c.socket.once('error', rej);
        c.socket.bind(opts.localPort ?? 0, host.includes(':') ? '::1' : '127.0.0.1', () => res());
      });
    } catch (err) {
      // A failed bind (EADDRINUSE) must not leave the socket open.
      c.closeSocket();
      throw err;
    }
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        // Give up: stop retransmitting and release the socket now, not at handshakeTimeoutMs.
        c.fail = undefined;
        c.close();
        reject(DtlsErrors.handshakeTimeout());
      }, opts.timeoutMs ?? 10_000);
      c.settle = () => {
        clearTimeout(t);
        resolve();
      };
      c.fail = (err) => {
        clearTimeout(t);
        reject(err);
      };
      c.client.start();
    });
    c.settle = undefined;
    c.fail = undefined;
    return c;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  onData(fn: (d: Uint8Array) => void): void {
    this.dataHandlers.push(fn);
  }

  send(data: Uint8Array): void {
    this.client.send(data);
  }

  /** Moves to a fresh UDP socket (a new source port), as a NAT rebinding would. */
  async rebind(): Promise<void> {
    const old = this.socket;
    this.socket = this.newSocket();
    await new Promise<void>((res) => this.socket.bind(0, this.server.family === 'IPv6' ? '::1' : '127.0.0.1', () => res()));
    old.close();
  }

  get session(): ClientSession | undefined {
    return this.client.session;
  }

  close(): void {
    if (this.client.state !== 'closed') this.client.close();
    this.closeSocket();
  }
}

export const connectDtls = (opts: ConnectDtlsOptions): Promise<DtlsClientSocket> => DtlsClientSocket.connect(opts);
