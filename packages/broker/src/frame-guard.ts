/**
 * Enforces the maximum MQTT packet size before Aedes parses anything: a pure incremental
 * scanner of the fixed header (MQTT 3.1.1 §2.2: type byte, Remaining Length as 1-4 byte
 * varint) and a Duplex wrapper that sits between a socket and Aedes. Aedes has no packet
 * size limit of its own, and mqtt-packet would buffer a 256 MB packet.
 */
import { Duplex } from 'node:stream';
import { BrokerErrors } from './errors';

export class MqttFrameScanner {
  private phase: 'type' | 'length' | 'body' = 'type';
  private lenValue = 0;
  private lenBytes = 0;
  private multiplier = 1;
  private bodyLeft = 0;
  /** Bytes seen in total (for $SYS byte counters). */
  bytes = 0;
  constructor(readonly maxPacketBytes: number) {}

  /** Throws `packetTooLarge` / `malformedPacket` as soon as a header says so. */
  feed(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'type') {
        i++;
        this.phase = 'length';
        this.lenValue = 0;
        this.lenBytes = 0;
        this.multiplier = 1;
      } else if (this.phase === 'length') {
        const b = chunk[i++]!;
        this.lenValue += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lenBytes++;
        if (b & 0x80) {
          // §2.2.3: at most four bytes of Remaining Length.
          if (this.lenBytes >= 4) throw BrokerErrors.malformedPacket('Remaining Length longer than 4 bytes');
          continue;
        }
        const total = 1 + this.lenBytes + this.lenValue;
        if (total > this.maxPacketBytes) {
          throw BrokerErrors.packetTooLarge(`${total} bytes over the limit of ${this.maxPacketBytes}`);
        }
        this.bodyLeft = this.lenValue;
        this.phase = this.bodyLeft === 0 ? 'type' : 'body';
      } else {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        i += n;
        this.bodyLeft -= n;
        if (this.bodyLeft === 0) this.phase = 'type';
      }
    }
  }
}

/**
 * Wraps a connection so every byte read passes the scanner. On a violation the wrapper is
 * destroyed with the typed error (Aedes reports it as a client error and drops only that
 * client) and `hooks.violation` is told.
 */
/**
 * Splits a byte stream into whole MQTT packets (for the outgoing side, which we wrote
 * ourselves; no size check). Pure.
 */
export class MqttFrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      let complete = false;
      for (; i < this.buf.length && i <= 4; i++) {
        const b = this.buf[i]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if (!(b & 0x80)) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      const total = i + 1 + len;
      if (this.buf.length < total) break;
      out.push(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
    }
    return out;
  }
}

const PUBACK = 0x40;

export interface GuardHooks {
  violation(err: Error): void;
  bytesIn?(n: number): void;
  bytesOut?(n: number): void;
}

export class GuardedConnection extends Duplex {
  // "A hard kill loses nothing that was acknowledged" (DESIGN.md §5): Aedes writes the PUBACK
  // of a QoS 1 PUBLISH before it stores the message for offline subscribers, so each outgoing
  // PUBACK (and everything written after it, to keep order) waits here until the broker
  // calls `releasePuback` once the message is persisted.
  private readonly splitter = new MqttFrameSplitter();
  private readonly held: Buffer[] = [];
  private readonly unreleased = new Set<number>();
  private readonly releasedEarly = new Set<number>();
  holdPubacks = false;
  /** How long a closing connection may take to flush what was already written (then it is destroyed). */
  closeFlushMs = 2000;
  private corked = false;
  constructor(
    private readonly inner: Duplex,
    readonly scanner: MqttFrameScanner,
    private readonly hooks: GuardHooks,
  ) {
    super({ allowHalfOpen: false });
    inner.on('data', (chunk: Buffer) => {
      try {
        scanner.feed(chunk);
      } catch (err) {
        hooks.violation(err as Error);
        inner.destroy();
        this.destroy(err as Error);
        return;
      }
      hooks.bytesIn?.(chunk.length);
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
    inner.pause();
  }
  override _read(): void {
    this.inner.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hooks.bytesOut?.(chunk.length);
    if (this.inner.destroyed) {
      cb();
      return;
    }
    if (!this.holdPubacks) {
      // Complete as soon as the socket takes the bytes (not when they are flushed): Aedes writes
      // a packet in several small chunks, and waiting per chunk halved QoS 1 throughput.
      if (this.inner.write(chunk)) cb();
      else this.inner.once('drain', () => cb());
      return;
    }
    for (const frame of this.splitter.push(chunk)) {
      if (frame[0] === PUBACK && frame.length === 4) {
        const id = frame.readUInt16BE(2);
        if (!this.releasedEarly.delete(id)) this.unreleased.add(id);
        this.held.push(frame);
      } else {
        this.held.push(frame);
      }
    }
    // Keep backpressure: Aedes' drainTimeout relies on write() reporting a full socket.
    if (this.pump()) cb();
    else this.inner.once('drain', () => cb());
  }

  /** The QoS 1 message with this id is stored: its PUBACK may go out. */
  releasePuback(messageId: number): void {
    if (!this.unreleased.delete(messageId)) this.releasedEarly.add(messageId);
    this.pump();
  }

  /** Writes what may go out; false when the inner stream asks to wait for 'drain'. */
  private pump(): boolean {
    let ok = true;
    let n = 0;
    while (this.held.length > 0) {
      const f = this.held[0]!;
      if (f[0] === PUBACK && f.length === 4 && this.unreleased.has(f.readUInt16BE(2))) break;
      this.held.shift();
      if (this.inner.destroyed) continue;
      // Coalesce the frames of this event-loop turn into one socket write: Aedes writes each
      // delivery and PUBACK from its own setImmediate callback, so uncorking at nextTick made
      // one write(2) per packet (half the QoS 1 time in the profile); setImmediate runs after
      // the turn's immediates.
      if (n++ === 0 && !this.corked) {
        this.corked = true;
        this.inner.cork();
        setImmediate(() => {
          this.corked = false;
          this.inner.uncork();
        });
      }
      ok = this.inner.write(f) && ok;
    }
    return ok || this.inner.destroyed;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this._write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), 'binary', cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const inner = this.inner as Duplex & { writableCorked: number };
    // Regression: with writes corked until setImmediate, Aedes' write-then-destroy (CONNACK 4/5,
    // or CONNACK 1 then an error) lost the CONNACK. Frames already taken go out first, bounded
    // in time; a transport error or a guard violation has destroyed `inner` already.
    if (!inner.destroyed && (inner.writableCorked > 0 || inner.writableLength > 0)) {
      while (inner.writableCorked > 0) inner.uncork();
      const timer = setTimeout(() => inner.destroy(), this.closeFlushMs);
      timer.unref();
      inner.end(() => {
        clearTimeout(timer);
        inner.destroy();
      });
    } else {
      inner.destroy();
    }
    cb(err);
  }
}
