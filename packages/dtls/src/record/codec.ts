/** DTLS record framing (RFC 6347 §4.1) including the tls12_cid record of RFC 9146 §4. */
import { ContentType, RECORD_HEADER_LENGTH } from '../constants';

export interface DtlsRecord {
  type: number;
  version: number;
  epoch: number;
  seq: number;
  /** Connection ID of a tls12_cid record. */
  cid?: Uint8Array;
  fragment: Uint8Array;
}

/**
 * Splits a datagram into records (several per datagram, RFC 6347 §4.1.1). Stops at the first
 * malformed record: the rest of the datagram is discarded, as a receiver may (§4.1.2.7).
 * `cidLength` is the length of connection ids this side issued (needed to parse tls12_cid).
 */
export function parseRecords(data: Uint8Array, cidLength: number, maxRecords: number, maxFragment: number): DtlsRecord[] {
  const out: DtlsRecord[] = [];
  let o = 0;
  while (o + RECORD_HEADER_LENGTH <= data.length && out.length < maxRecords) {
    const type = data[o]!;
    const version = (data[o + 1]! << 8) | data[o + 2]!;
    const epoch = (data[o + 3]! << 8) | data[o + 4]!;
    const seq =
      ((data[o + 5]! << 8) | data[o + 6]!) * 0x1_0000_0000 +
      ((data[o + 7]! << 24) >>> 0) +
      ((data[o + 8]! << 16) | (data[o + 9]! << 8) | data[o + 10]!);
    let h = o + 11;
    let cid: Uint8Array | undefined;
    if (type === ContentType.tls12Cid) {
      if (cidLength === 0 || h + cidLength + 2 > data.length) break;
      cid = data.subarray(h, h + cidLength);
      h += cidLength;
    }
    if ((version >>> 8) !== 0xfe) break;
    const len = (data[h]! << 8) | data[h + 1]!;
    h += 2;
    if (h + len > data.length || len > maxFragment) break;
    const rec: DtlsRecord = { type, version, epoch, seq, fragment: data.subarray(h, h + len) };
    if (cid) rec.cid = cid;
    out.push(rec);
    o = h + len;
  }
  return out;
}

/** Writes one record header + fragment into a new array. */
export function encodeRecord(
  type: number,
  version: number,
  epoch: number,
  seq: number,
  fragment: Uint8Array,
  cid?: Uint8Array,
): Uint8Array {
  const cidLen = cid ? cid.length : 0;
  const out = new Uint8Array(RECORD_HEADER_LENGTH + cidLen + fragment.length);
  writeHeader(out, 0, type, version, epoch, seq);
  if (cid) out.set(cid, 11);
  out[11 + cidLen] = fragment.length >>> 8;
  out[12 + cidLen] = fragment.length & 0xff;
  out.set(fragment, RECORD_HEADER_LENGTH + cidLen);
  return out;
}

/** Writes the header of a record whose fragment already sits after it in `out` (RFC 6347 §4.1). */
export function writeRecordHeader(out: Uint8Array, type: number, version: number, epoch: number, seq: number, cid?: Uint8Array): void {
  const cidLen = cid ? cid.length : 0;
  const fragLen = out.length - RECORD_HEADER_LENGTH - cidLen;
  writeHeader(out, 0, type, version, epoch, seq);
  if (cid) out.set(cid, 11);
  out[11 + cidLen] = fragLen >>> 8;
  out[12 + cidLen] = fragLen & 0xff;
}

function writeHeader(out: Uint8Array, o: number, type: number, version: number, epoch: number, seq: number): void {
  out[o] = type;
  out[o + 1] = version >>> 8;
  out[o + 2] = version & 0xff;
  writeEpochSeq(out, o + 3, epoch, seq);
}

export function writeEpochSeq(out: Uint8Array, o: number, epoch: number, seq: number): void {
  out[o] = epoch >>> 8;
  out[o + 1] = epoch & 0xff;
  const hi = Math.floor(seq / 0x1_0000_0000);
  const lo = seq >>> 0;
  out[o + 2] = hi >>> 8;
  out[o + 3] = hi & 0xff;
  out[o + 4] = lo >>> 24;
  out[o + 5] = (lo >>> 16) & 0xff;
  out[o + 6] = (lo >>> 8) & 0xff;
  out[o + 7] = lo & 0xff;
}

/** epoch(2) || sequence_number(6): the 64-bit seq_num of the MAC/AAD and the AEAD explicit nonce. */
export function epochSeq(epoch: number, seq: number): Uint8Array {
  const out = new Uint8Array(8);
  writeEpochSeq(out, 0, epoch, seq);
  return out;
}
