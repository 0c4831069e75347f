/**
 * Test helper (not a test): the plaintext DTLS 1.2 framing the PKI interop tests need to talk
 * to real servers (RFC 6347 §4.1 records, §4.2.2 handshake headers, §4.2.1 cookie exchange),
 * written independently of the package's record layer so the two check each other.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type Socket, createSocket } from 'node:dgram';
import { ByteReader, ByteWriter, concatBytes, systemRandom } from '@m2mhub/core';

export function assertBinary(name: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'pipe' });
  } catch {
    assert.fail(`${name} is required for this test (Debian: openssl / gnutls-bin)`);
  }
}

export function record(type: number, epoch: number, seq: number, payload: Uint8Array): Uint8Array {
  return new ByteWriter(13 + payload.length).u8(type).u16(0xfefd).u16(epoch).u48(seq).vector(2, payload).finish();
}

/** A handshake message as one fragment: the form that enters the transcript (RFC 6347 §4.2.6). */
export function handshake(type: number, seq: number, body: Uint8Array): Uint8Array {
  return new ByteWriter(12 + body.length).u8(type).u24(body.length).u16(seq).u24(0).u24(body.length).bytes(body).finish();
}

export interface Ext {
  type: number;
  data: Uint8Array;
}

function clientHello(random: Uint8Array, cookie: Uint8Array, suites: number[], exts: Ext[]): Uint8Array {
  const w = new ByteWriter(256).u16(0xfefd).bytes(random).u8(0).vector(1, cookie).u16(2 * suites.length);
  for (const s of suites) w.u16(s);
  w.u8(1).u8(0);
  const e = new ByteWriter(128);
  // renegotiation_info (RFC 5746) and extended_master_secret (RFC 7627) as every modern client sends.
  for (const x of [...exts, { type: 0xff01, data: Uint8Array.of(0) }, { type: 23, data: new Uint8Array(0) }]) e.u16(x.type).vector(2, x.data);
  return w.vector(2, e.finish()).finish();
}

export interface Msg {
  type: number;
  seq: number;
  body: Uint8Array;
}

export interface Rec {
  type: number;
  epoch: number;
  seq: number;
  payload: Uint8Array;
}

export function parseRecords(datagram: Uint8Array): Rec[] {
  const out: Rec[] = [];
  const r = new ByteReader(datagram);
  while (r.remaining >= 13) {
    const type = r.u8();
    r.u16();
    const epoch = r.u16();
    const seq = r.u48();
    out.push({ type, epoch, seq, payload: r.vector(2) });
  }
  return out;
}

/** Reassembles handshake messages (by message_seq and fragment offset) in order. */
export class Reassembler {
  private parts = new Map<number, { type: number; body: Uint8Array; got: Set<number> }>();
  next = 0;
  push(payload: Uint8Array): Msg[] {
    const h = new ByteReader(payload);
    while (h.remaining >= 12) {
      const type = h.u8();
      const len = h.u24();
      const seq = h.u16();
      const off = h.u24();
      const frag = h.vector(3);
      if (seq < this.next) continue;
      let p = this.parts.get(seq);
      if (!p) this.parts.set(seq, (p = { type, body: new Uint8Array(len), got: new Set() }));
      p.body.set(frag, off);
      for (let i = off; i < off + frag.length; i++) p.got.add(i);
    }
    const out: Msg[] = [];
    for (let p = this.parts.get(this.next); p && p.got.size === p.body.length; p = this.parts.get(this.next)) {
      out.push({ type: p.type, seq: this.next, body: p.body });
      this.parts.delete(this.next++);
    }
    return out;
  }
}

export interface ServerFlight {
  clientRandom: Uint8Array;
  serverRandom: Uint8Array;
  suite: number;
  extensions: Ext[];
  /** Server messages by handshake type. */
  msgs: Map<number, Uint8Array>;
  /** Every handshake message so far, single-fragment form, from the ClientHello with cookie on. */
  transcript: Uint8Array[];
  /** Our next message_seq. */
  nextSeq: number;
}

/** A client socket that runs the plaintext part of a DTLS 1.2 handshake. */
export class PlainDtlsClient {
  private recSeq = 0;
  private readonly reasm = new Reassembler();
  private readonly queue: Rec[] = [];
  private waiter: (() => void) | undefined;
  private constructor(
    private readonly sock: Socket,
    private port: number,
  ) {
    sock.on('message', (d, rinfo) => {
      // A listening endpoint (port 0) answers whoever spoke first.
      if (this.port === 0) this.port = rinfo.port;
      this.queue.push(...parseRecords(new Uint8Array(d)));
      this.waiter?.();
    });
  }

  static async open(port: number): Promise<PlainDtlsClient> {
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', res));
    return new PlainDtlsClient(sock, port);
  }

  /** A server-side endpoint on an ephemeral port; it talks to the first peer that writes. */
  static async listen(): Promise<PlainDtlsClient> {
    return PlainDtlsClient.open(0);
  }

  get localPort(): number {
    return this.sock.address().port;
  }

  close(): void {
    this.sock.close();
  }

  /** Sends records in one datagram; `epoch 0` records get the next epoch-0 sequence number. */
  send(records: { type: number; epoch?: number; seq?: number; payload: Uint8Array }[]): void {
    const parts = records.map((r) => record(r.type, r.epoch ?? 0, r.seq ?? this.recSeq++, r.payload));
    this.sock.send(Buffer.concat(parts), this.port, '127.0.0.1');
  }

  /** The next record matching `pred`, waiting up to `ms`. */
  async nextRecord(pred: (r: Rec) => boolean, ms = 5000, onTick?: () => void): Promise<Rec> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.queue.findIndex(pred);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error('timed out waiting for a record');
      await new Promise<void>((res) => {
        const t = setTimeout(res, 300);
        this.waiter = () => {
          clearTimeout(t);
          res();
        };
      });
      onTick?.();
    }
  }

  /** ClientHello (with the cookie exchange when the server asks for it) up to ServerHelloDone. */
  async toServerHelloDone(suites: number[], exts: Ext[]): Promise<ServerFlight> {
    const clientRandom = systemRandom.bytes(32);
    let hello = handshake(1, 0, clientHello(clientRandom, new Uint8Array(0), suites, exts));
    const msgs = new Map<number, Uint8Array>();
    const transcript: Uint8Array[] = [];
    let helloSeq = 0;
    const deadline = Date.now() + 10_000;
    this.send([{ type: 22, payload: hello }]);
    while (!msgs.has(14)) {
      // Retransmits the ClientHello while the server is silent (it may still be starting).
      const rec = await this.nextRecord((r) => r.type === 22 && r.epoch === 0, deadline - Date.now(), () => {
        if (msgs.size === 0) this.send([{ type: 22, payload: hello }]);
      });
      for (const m of this.reasm.push(rec.payload)) {
        if (m.type === 3) {
          // HelloVerifyRequest: server_version(2) cookie<0..255>; neither it nor the first hello enters the transcript.
          helloSeq = 1;
          hello = handshake(1, 1, clientHello(clientRandom, m.body.subarray(3, 3 + m.body[2]!), suites, exts));
          this.send([{ type: 22, payload: hello }]);
          continue;
        }
        if (transcript.length === 0) transcript.push(hello);
        transcript.push(handshake(m.type, m.seq, m.body));
        msgs.set(m.type, m.body);
      }
    }
    const r = new ByteReader(msgs.get(2)!);
    r.u16();
    const serverRandom = r.bytes(32);
    r.vector(1);
    const suite = r.u16();
    r.u8();
    const extensions: Ext[] = [];
    if (r.remaining > 0) {
      const e = new ByteReader(r.vector(2));
      while (e.remaining > 0) extensions.push({ type: e.u16(), data: e.vector(2) });
    }
    return { clientRandom, serverRandom, suite, extensions, msgs, transcript, nextSeq: helloSeq + 1 };
  }

  /** Handshake messages from epoch-0 records received later (after the first flight). */
  reassemble(payload: Uint8Array): Msg[] {
    return this.reasm.push(payload);
  }
}

export interface ParsedClientHello {
  random: Uint8Array;
  suites: number[];
  extensions: Ext[];
}

/** ClientHello body (RFC 6347 §4.2.1 / RFC 5246 §7.4.1.2). */
export function parseClientHello(body: Uint8Array): ParsedClientHello {
  const r = new ByteReader(body);
  r.u16();
  const random = r.bytes(32);
  r.vector(1);
  r.vector(1);
  const s = new ByteReader(r.vector(2));
  const suites: number[] = [];
  while (s.remaining > 0) suites.push(s.u16());
  r.vector(1);
  const extensions: Ext[] = [];
  if (r.remaining > 0) {
    const e = new ByteReader(r.vector(2));
    while (e.remaining > 0) extensions.push({ type: e.u16(), data: e.vector(2) });
  }
  return { random, suites, extensions };
}

export function serverHello(random: Uint8Array, suite: number, exts: Ext[]): Uint8Array {
  const e = new ByteWriter(64);
  for (const x of exts) e.u16(x.type).vector(2, x.data);
  return new ByteWriter(128).u16(0xfefd).bytes(random).u8(0).u16(suite).u8(0).vector(2, e.finish()).finish();
}

export function waitForLine(child: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`server did not start: ${buf}`)), 10_000);
    const on = (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
  });
}

/** An ephemeral UDP port chosen by the OS, for servers that cannot report the port they bound. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
  const { port } = s.address();
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

/** SHA-256 of the concatenated handshake messages (the TLS 1.2 PRF hash of the transcript). */
export function transcriptHash(...messages: Uint8Array[]): Uint8Array {
  return new Uint8Array(createHash('sha256').update(concatBytes(...messages)).digest());
}

/** Peer processes a test started; `killAll` ends exactly those. */
export class PeerProcesses {
  private readonly started: ChildProcess[] = [];
  spawn(cmd: string, args: string[], cwd: string): ChildProcess {
    const child = spawn(cmd, args, { cwd });
    this.started.push(child);
    return child;
  }
  killAll(): void {
    for (const c of this.started) c.kill('SIGKILL');
  }
}
