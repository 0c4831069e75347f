/**
 * Handshake message codecs (RFC 5246 §7.4, RFC 6347 §4.2-4.3) and the DTLS handshake header.
 * Every parser reads through ByteReader, so a truncated or oversized field throws before
 * anything is allocated; callers turn that into a decode_error alert.
 */
import { ByteReader, ByteWriter } from '@m2mhub/core';
import { HANDSHAKE_HEADER_LENGTH } from '../constants';
import { DtlsErrors } from '../errors';

export interface HandshakeFragment {
  type: number;
  length: number;
  seq: number;
  offset: number;
  body: Uint8Array;
}

/** Parses all handshake fragments of one record (a record may carry several). */
export function parseFragments(data: Uint8Array, maxMessage: number): HandshakeFragment[] {
  const out: HandshakeFragment[] = [];
  const r = new ByteReader(data);
  while (r.remaining > 0) {
    if (r.remaining < HANDSHAKE_HEADER_LENGTH) throw DtlsErrors.decode('short handshake header');
    const type = r.u8();
    const length = r.u24();
    const seq = r.u16();
    const offset = r.u24();
    const fragLength = r.u24();
    if (length > maxMessage) throw DtlsErrors.decode(`handshake message of ${length} bytes over the limit`);
    if (offset + fragLength > length) throw DtlsErrors.decode('fragment past message end');
    out.push({ type, length, seq, offset, body: r.bytes(fragLength) });
  }
  return out;
}

/** The whole message with a full-length header, as it enters the transcript (RFC 6347 §4.2.6). */
export function encodeHandshake(type: number, seq: number, body: Uint8Array): Uint8Array {
  return encodeFragment(type, body.length, seq, 0, body);
}

export function encodeFragment(type: number, length: number, seq: number, offset: number, frag: Uint8Array): Uint8Array {
  const out = new Uint8Array(HANDSHAKE_HEADER_LENGTH + frag.length);
  out[0] = type;
  out[1] = length >>> 16;
  out[2] = (length >>> 8) & 0xff;
  out[3] = length & 0xff;
  out[4] = seq >>> 8;
  out[5] = seq & 0xff;
  out[6] = offset >>> 16;
  out[7] = (offset >>> 8) & 0xff;
  out[8] = offset & 0xff;
  out[9] = frag.length >>> 16;
  out[10] = (frag.length >>> 8) & 0xff;
  out[11] = frag.length & 0xff;
  out.set(frag, HANDSHAKE_HEADER_LENGTH);
  return out;
}

/** Splits one encoded message (full header) into fragments whose size fits `maxFragment` body bytes. */
export function fragmentMessage(message: Uint8Array, maxFragment: number): Uint8Array[] {
  const body = message.subarray(HANDSHAKE_HEADER_LENGTH);
  if (body.length <= maxFragment) return [message];
  const type = message[0]!;
  const seq = (message[4]! << 8) | message[5]!;
  const out: Uint8Array[] = [];
  for (let o = 0; o < body.length; o += maxFragment) {
    out.push(encodeFragment(type, body.length, seq, o, body.subarray(o, Math.min(body.length, o + maxFragment))));
  }
  return out;
}

export interface Extension {
  type: number;
  data: Uint8Array;
}

function readExtensions(r: ByteReader): Extension[] {
  const out: Extension[] = [];
  if (r.remaining === 0) return out;
  const all = new ByteReader(r.vector(2));
  const seen = new Set<number>();
  while (all.remaining > 0) {
    const type = all.u16();
    // RFC 5246 §7.4.1.4: there MUST NOT be more than one extension of the same type.
    if (seen.has(type)) throw DtlsErrors.illegalParameter(`duplicate extension ${type}`);
    seen.add(type);
    out.push({ type, data: all.vector(2) });
  }
  if (r.remaining !== 0) throw DtlsErrors.decode('trailing bytes after extensions');
  return out;
}

function writeExtensions(w: ByteWriter, exts: Extension[]): void {
  if (exts.length === 0) return;
  const at = w.reserve(2);
  const start = w.length;
  for (const e of exts) w.u16(e.type).vector(2, e.data);
  w.patchU16(at, w.length - start);
}

export interface ClientHello {
  version: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cookie: Uint8Array;
  cipherSuites: number[];
  compressionMethods: Uint8Array;
  extensions: Extension[];
}

export function parseClientHello(body: Uint8Array): ClientHello {
  const r = new ByteReader(body);
  const version = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vector(1, 32);
  const cookie = r.vector(1, 255);
  const suitesRaw = r.vector(2);
  if (suitesRaw.length < 2 || suitesRaw.length % 2 !== 0) throw DtlsErrors.decode('bad cipher_suites');
  const cipherSuites: number[] = [];
  for (let i = 0; i < suitesRaw.length; i += 2) cipherSuites.push((suitesRaw[i]! << 8) | suitesRaw[i + 1]!);
  const compressionMethods = r.vector(1);
  if (compressionMethods.length < 1) throw DtlsErrors.decode('no compression methods');
  return { version, random, sessionId, cookie, cipherSuites, compressionMethods, extensions: readExtensions(r) };
}

export function encodeClientHello(m: ClientHello): Uint8Array {
  const w = new ByteWriter(128);
  w.u16(m.version).bytes(m.random).vector(1, m.sessionId).vector(1, m.cookie);
  w.u16(m.cipherSuites.length * 2);
  for (const s of m.cipherSuites) w.u16(s);
  w.vector(1, m.compressionMethods);
  writeExtensions(w, m.extensions);
  return w.finish();
}

export interface ServerHello {
  version: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Extension[];
}

export function parseServerHello(body: Uint8Array): ServerHello {
  const r = new ByteReader(body);
  const version = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vector(1, 32);
  const cipherSuite = r.u16();
  const compressionMethod = r.u8();
  return { version, random, sessionId, cipherSuite, compressionMethod, extensions: readExtensions(r) };
}

export function encodeServerHello(m: ServerHello): Uint8Array {
  const w = new ByteWriter(96);
  w.u16(m.version).bytes(m.random).vector(1, m.sessionId).u16(m.cipherSuite).u8(m.compressionMethod);
  writeExtensions(w, m.extensions);
  return w.finish();
}

/** HelloVerifyRequest (RFC 6347 §4.2.1). */
export function encodeHelloVerifyRequest(version: number, cookie: Uint8Array): Uint8Array {
  return new ByteWriter(40).u16(version).vector(1, cookie).finish();
}

export function parseHelloVerifyRequest(body: Uint8Array): { version: number; cookie: Uint8Array } {
  const r = new ByteReader(body);
  const version = r.u16();
  const cookie = r.vector(1, 255);
  return { version, cookie };
}

/** PSK ServerKeyExchange / ClientKeyExchange: an identity (hint) vector<0..2^16-1> (RFC 4279 §2). */
export function encodePskIdentity(identity: Uint8Array): Uint8Array {
  return new ByteWriter(identity.length + 2).vector(2, identity).finish();
}

export function parsePskIdentity(body: Uint8Array, max: number): Uint8Array {
  const r = new ByteReader(body);
  const id = r.vector(2, max);
  if (r.remaining !== 0) throw DtlsErrors.decode('trailing bytes after PSK identity');
  return id;
}

export function findExtension(exts: Extension[], type: number): Extension | undefined {
  return exts.find((e) => e.type === type);
}
