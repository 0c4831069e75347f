/**
 * Handshake message reassembly (RFC 6347 §4.2.3): fragments may arrive out of order,
 * overlapping or duplicated; messages are released strictly in message_seq order.
 * Memory is bounded by `maxMessage` per message and `maxAhead` buffered future messages.
 */
import { DtlsErrors } from '../errors';
import type { HandshakeFragment } from './codec';

export interface HandshakeMessage {
  type: number;
  seq: number;
  body: Uint8Array;
}

interface Partial {
  type: number;
  body: Uint8Array;
  have: Uint8Array;
  missing: number;
}

export type AddResult = 'accepted' | 'old' | 'dropped';

export class Reassembler {
  private partial = new Map<number, Partial>();
  private ready: HandshakeMessage[] = [];
  constructor(
    public nextSeq: number,
    private readonly maxAhead: number,
  ) {}

  add(f: HandshakeFragment): AddResult {
    if (f.seq < this.nextSeq) return 'old';
    if (f.seq >= this.nextSeq + this.maxAhead) return 'dropped';
    let p = this.partial.get(f.seq);
    if (!p) {
      p = { type: f.type, body: new Uint8Array(f.length), have: new Uint8Array(f.length), missing: f.length };
      this.partial.set(f.seq, p);
    } else if (p.type !== f.type || p.body.length !== f.length) {
      throw DtlsErrors.illegalParameter('fragments of one message disagree');
    }
    p.body.set(f.body, f.offset);
    for (let i = f.offset; i < f.offset + f.body.length; i++) {
      if (p.have[i] === 0) {
        p.have[i] = 1;
        p.missing--;
      }
    }
    for (;;) {
      const next = this.partial.get(this.nextSeq);
      if (!next || next.missing > 0) break;
      this.partial.delete(this.nextSeq);
      this.ready.push({ type: next.type, seq: this.nextSeq, body: next.body });
      this.nextSeq++;
    }
    return 'accepted';
  }

  /** Takes the next complete in-order message, if any. */
  shift(): HandshakeMessage | undefined {
    return this.ready.shift();
  }
}
