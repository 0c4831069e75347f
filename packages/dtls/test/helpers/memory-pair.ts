/**
 * A DTLS server engine and client engine joined by an in-memory "network" on a FakeScheduler,
 * for loss, reordering, duplication and replay tests. Nothing is mocked: both ends are the
 * shipped engines; only the wire between them is a pair of arrays.
 */
import type { M2MError, PeerAddress } from '@m2mhub/core';
import { FakeScheduler, SeededRandom } from '@m2mhub/core/testing';
import { DtlsClient, type DtlsClientOptions } from '../../src/client';
import type { DtlsLimits } from '../../src/config';
import { DtlsServer, type DtlsServerOptions, type DtlsSession } from '../../src/server';
import { memoryPskStore } from '../../src/stores';

export const SERVER: PeerAddress = { address: '10.0.0.1', port: 5784, family: 'IPv4' };
export const CLIENT: PeerAddress = { address: '10.0.0.2', port: 40000, family: 'IPv4' };
export const KEY = new TextEncoder().encode('secret-psk-0123');

export type Filter = (d: Uint8Array, dir: 'c2s' | 's2c', index: number) => Uint8Array[];

export class MemoryPair {
  readonly sched = new FakeScheduler();
  readonly rnd = new SeededRandom(42);
  readonly server: DtlsServer;
  client!: DtlsClient;
  toServer: { d: Uint8Array; from: PeerAddress }[] = [];
  toClient: { d: Uint8Array; to: PeerAddress }[] = [];
  serverData: { data: Uint8Array; session: DtlsSession }[] = [];
  clientData: Uint8Array[] = [];
  clientClosed: M2MError | 'clean' | undefined;
  clientAddr: PeerAddress = CLIENT;
  /** When set, the server echoes application data back. */
  echo = false;
  sentCount = { c2s: 0, s2c: 0 };
  /** Every datagram each side sent, in order, with the fake time. */
  log: { dir: 'c2s' | 's2c'; d: Uint8Array; at: number }[] = [];

  constructor(serverOpts: Partial<DtlsServerOptions> = {}, limits: Partial<DtlsLimits> = {}) {
    this.server = new DtlsServer(
      {
        pskStore: memoryPskStore({ dev1: { key: KEY, endpoint: 'ep-1' } }),
        scheduler: this.sched,
        random: this.rnd,
        limits,
        ...serverOpts,
      },
      {
        send: (d, to) => {
          this.log.push({ dir: 's2c', d, at: this.sched.now() });
          this.toClient.push({ d, to });
        },
        onData: (session, data) => {
          this.serverData.push({ data, session });
          if (this.echo) session.sendApplicationData(data);
        },
      },
    );
  }

  newClient(opts: Partial<DtlsClientOptions> = {}, limits: Partial<DtlsLimits> = {}): DtlsClient {
    this.clientClosed = undefined;
    this.client = new DtlsClient(
      { psk: { identity: 'dev1', key: KEY }, scheduler: this.sched, random: this.rnd, limits, ...opts },
      SERVER,
      {
        send: (d) => {
          this.log.push({ dir: 'c2s', d, at: this.sched.now() });
          this.toServer.push({ d, from: this.clientAddr });
        },
        onData: (d) => this.clientData.push(d),
        onClosed: (err) => {
          this.clientClosed = err ?? 'clean';
        },
      },
    );
    return this.client;
  }

  /** Delivers queued datagrams both ways until both queues are empty, through `filter`. */
  flush(filter: Filter = (d) => [d], maxRounds = 50): void {
    for (let round = 0; round < maxRounds; round++) {
      if (this.toServer.length === 0 && this.toClient.length === 0) return;
      const cs = this.toServer;
      const sc = this.toClient;
      this.toServer = [];
      this.toClient = [];
      for (const { d, from } of cs) {
        for (const x of filter(d, 'c2s', this.sentCount.c2s++)) this.server.handleDatagram(x, from);
      }
      for (const { d } of sc) {
        for (const x of filter(d, 's2c', this.sentCount.s2c++)) this.client.handleDatagram(x);
      }
    }
  }

  /** Full handshake over a perfect network. */
  connect(opts: Partial<DtlsClientOptions> = {}): DtlsClient {
    const c = this.newClient(opts);
    c.start();
    this.flush();
    return c;
  }
}

export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);
