/**
 * Pure CoAP message codec (RFC 7252 §3). No I/O, no allocation beyond the message itself:
 * option values and the payload are views into the input datagram.
 * Strict: every message format error of §3 and §4.1 throws M2M_COAP_FORMAT_ERROR.
 */
import type { CoapMessage, CoapOption, CoapType } from './api';
import { codeToByte, codeToString } from './codes';
import { CoapErrors } from './errors';

const TYPES: readonly CoapType[] = ['CON', 'NON', 'ACK', 'RST'];
const TYPE_BITS: Readonly<Record<CoapType, number>> = { CON: 0, NON: 1, ACK: 2, RST: 3 };
const EMPTY: Uint8Array = new Uint8Array(0);

/** The fixed 4-byte header, readable even when the rest of the message is malformed. */
export interface CoapHeader {
  version: number;
  type: CoapType;
  tokenLength: number;
  codeByte: number;
  messageId: number;
}

export function parseHeader(data: Uint8Array): CoapHeader | undefined {
  if (data.length < 4) return undefined;
  const b0 = data[0]!;
  return {
    version: b0 >> 6,
    type: TYPES[(b0 >> 4) & 3]!,
    tokenLength: b0 & 0x0f,
    codeByte: data[1]!,
    messageId: (data[2]! << 8) | data[3]!,
  };
}

export interface ParseLimits {
  /** Upper bound on the number of options in one message (each costs an object). */
  maxOptions: number;
}

const DEFAULT_PARSE_LIMITS: ParseLimits = { maxOptions: 64 };

/** Parses one datagram. Throws M2M_COAP_FORMAT_ERROR; version != 1 also throws (RFC 7252 §3: silently ignored by the caller). */
export function parseMessage(data: Uint8Array, limits: ParseLimits = DEFAULT_PARSE_LIMITS): CoapMessage {
  const len = data.length;
  if (len < 4) throw CoapErrors.formatError('shorter than the 4-byte header');
  const b0 = data[0]!;
  if (b0 >> 6 !== 1) throw CoapErrors.formatError(`version ${b0 >> 6}`);
  const tkl = b0 & 0x0f;
  // RFC 7252 §3: token lengths 9-15 are reserved and a message format error.
  if (tkl > 8) throw CoapErrors.formatError(`token length ${tkl}`);
  const codeByte = data[1]!;
  const type = TYPES[(b0 >> 4) & 3]!;
  const messageId = (data[2]! << 8) | data[3]!;
  if (codeByte === 0) {
    // RFC 7252 §4.1: an Empty message has TKL 0 and nothing after the Message ID.
    if (len !== 4 || tkl !== 0) throw CoapErrors.formatError('bytes after an Empty message header');
    return { type, code: '0.00', messageId, token: EMPTY, options: [], payload: EMPTY };
  }
  let pos = 4 + tkl;
  if (pos > len) throw CoapErrors.formatError('truncated token');
  const token = data.subarray(4, pos);
  const options: CoapOption[] = [];
  let number = 0;
  let payload: Uint8Array = EMPTY;
  while (pos < len) {
    const b = data[pos++]!;
    if (b === 0xff) {
      // RFC 7252 §3: a payload marker followed by a zero-length payload is a format error.
      if (pos === len) throw CoapErrors.formatError('payload marker without payload');
      payload = data.subarray(pos, len);
      break;
    }
    let delta = b >> 4;
    let olen = b & 0x0f;
    if (delta === 13) {
      if (pos >= len) throw CoapErrors.formatError('truncated option delta');
      delta = data[pos++]! + 13;
    } else if (delta === 14) {
      if (pos + 1 >= len) throw CoapErrors.formatError('truncated option delta');
      delta = ((data[pos]! << 8) | data[pos + 1]!) + 269;
      pos += 2;
    } else if (delta === 15) {
      throw CoapErrors.formatError('option delta 15 outside the payload marker');
    }
    if (olen === 13) {
      if (pos >= len) throw CoapErrors.formatError('truncated option length');
      olen = data[pos++]! + 13;
    } else if (olen === 14) {
      if (pos + 1 >= len) throw CoapErrors.formatError('truncated option length');
      olen = ((data[pos]! << 8) | data[pos + 1]!) + 269;
      pos += 2;
    } else if (olen === 15) {
      throw CoapErrors.formatError('option length 15');
    }
    number += delta;
    if (number > 0xffff) throw CoapErrors.formatError('option number over 65535');
    if (pos + olen > len) throw CoapErrors.formatError('option value past the end');
    if (options.length >= limits.maxOptions) throw CoapErrors.formatError(`more than ${limits.maxOptions} options`);
    options.push({ number, value: data.subarray(pos, pos + olen) });
    pos += olen;
  }
  return { type, code: codeToString(codeByte), messageId, token, options, payload };
}

/*
 * Encoded messages are carved from 64 KiB slabs: a small `new Uint8Array(n)` lives on the V8
 * heap and must be copied to an off-heap buffer each time a socket sends it, a view on a
 * slab is sent as is. A slab is never reused; it is freed once no message in it is referenced
 * (replies kept for deduplication hold theirs for EXCHANGE_LIFETIME at most).
 */
const SLAB_SIZE = 64 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabOffset = 0;

function allocOut(size: number): Uint8Array {
  if (size > 1024) return new Uint8Array(size);
  if (slabOffset + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabOffset = 0;
  }
  const out = new Uint8Array(slab, slabOffset, size);
  slabOffset += size;
  return out;
}

function extLen(v: number): number {
  return v < 13 ? 0 : v < 269 ? 1 : 2;
}

/** What a response carries besides type and Message ID. */
export type ResponseParts = Pick<CoapMessage, 'code' | 'token' | 'options' | 'payload'>;

/** Serializes a message; options are written in ascending number order (stable for repeats). */
export function serializeMessage(msg: CoapMessage): Uint8Array {
  return encodeMessage(msg.type, msg.code, msg.messageId, msg.token, msg.options, msg.payload);
}

/** `serializeMessage` with the fields as arguments (no intermediate object on hot paths). */
export function encodeMessage(
  type: CoapType,
  code: string,
  messageId: number,
  token: Uint8Array,
  options: CoapOption[],
  payload: Uint8Array,
): Uint8Array {
  const tkl = token.length;
  if (tkl > 8) throw CoapErrors.formatError(`token of ${tkl} bytes`);
  const codeByte = codeToByte(code);
  let opts = options;
  for (let i = 1; i < opts.length; i++) {
    if (opts[i]!.number < opts[i - 1]!.number) {
      opts = [...opts].sort((a, b) => a.number - b.number);
      break;
    }
  }
  let size = 4 + tkl;
  let prev = 0;
  for (const o of opts) {
    const d = o.number - prev;
    const l = o.value.length;
    if (l > 65535 + 269) throw CoapErrors.formatError('option value too long');
    size += 1 + extLen(d) + extLen(l) + l;
    prev = o.number;
  }
  const plen = payload.length;
  if (plen > 0) size += 1 + plen;
  const out = allocOut(size);
  out[0] = 0x40 | (TYPE_BITS[type] << 4) | tkl;
  out[1] = codeByte;
  out[2] = (messageId >>> 8) & 0xff;
  out[3] = messageId & 0xff;
  out.set(token, 4);
  let pos = 4 + tkl;
  prev = 0;
  for (const o of opts) {
    const d = o.number - prev;
    const l = o.value.length;
    const dn = d < 13 ? d : d < 269 ? 13 : 14;
    const ln = l < 13 ? l : l < 269 ? 13 : 14;
    out[pos++] = (dn << 4) | ln;
    if (dn === 13) out[pos++] = d - 13;
    else if (dn === 14) {
      out[pos++] = (d - 269) >>> 8;
      out[pos++] = (d - 269) & 0xff;
    }
    if (ln === 13) out[pos++] = l - 13;
    else if (ln === 14) {
      out[pos++] = (l - 269) >>> 8;
      out[pos++] = (l - 269) & 0xff;
    }
    out.set(o.value, pos);
    pos += l;
    prev = o.number;
  }
  if (plen > 0) {
    out[pos++] = 0xff;
    out.set(payload, pos);
  }
  return out;
}

/** An Empty message (ACK, RST or a CON ping), RFC 7252 §4.1. */
export function emptyMessage(type: CoapType, messageId: number): Uint8Array {
  return Uint8Array.of(0x40 | (TYPE_BITS[type] << 4), 0, (messageId >>> 8) & 0xff, messageId & 0xff);
}
