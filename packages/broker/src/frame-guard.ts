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
export interface GuardHooks {
  violation(err: Error): void;
  bytesIn?(n: number): void;
  bytesOut?(n: number): void;
}

export class GuardedConnection extends Duplex {
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
    this.inner.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
}
