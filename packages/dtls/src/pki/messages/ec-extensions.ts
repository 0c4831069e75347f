/**
 * RFC 4492 §5.1 (RFC 8422 §5.1) hello extensions of ECC cipher suites: supported_groups
 * (elliptic_curves, 10) and ec_point_formats (11).
 */
import { ByteWriter } from '@m2mhub/core';
import { EC_POINT_FORMAT_UNCOMPRESSED, NAMED_CURVE_SECP256R1 } from '../ecdhe';
import { PkiErrors } from '../errors';
import { parseWhole, readList } from './wire';

/** NamedCurve named_curve_list<2..2^16-1>. */
export function encodeSupportedGroups(groups: readonly number[] = [NAMED_CURVE_SECP256R1]): Uint8Array {
  const w = new ByteWriter(2 + 2 * groups.length).u16(2 * groups.length);
  for (const g of groups) w.u16(g);
  return w.finish();
}

export function parseSupportedGroups(data: Uint8Array): number[] {
  const list = parseWhole(data, 'supported_groups', (r) => readList(r, 2, 2, 'supported_groups', (x) => x.u16()));
  if (list.length === 0) throw PkiErrors.decode('supported_groups is empty');
  return list;
}

/** ECPointFormat ec_point_format_list<1..2^8-1>. */
export function encodeEcPointFormats(formats: readonly number[] = [EC_POINT_FORMAT_UNCOMPRESSED]): Uint8Array {
  return new ByteWriter(1 + formats.length).vector(1, Uint8Array.from(formats)).finish();
}

export function parseEcPointFormats(data: Uint8Array): number[] {
  const list = parseWhole(data, 'ec_point_formats', (r) => readList(r, 1, 1, 'ec_point_formats', (x) => x.u8()));
  if (list.length === 0) throw PkiErrors.decode('ec_point_formats is empty');
  return list;
}

/**
 * Whether an ECDHE suite can be used with a peer's hello extensions: secp256r1 offered (or no
 * supported_groups, RFC 4492 §4: then any curve) and uncompressed allowed (RFC 8422 §5.1.2
 * says uncompressed MUST be supported; an explicit list without it is refused).
 */
export function ecdheUsable(groups: readonly number[] | undefined, pointFormats: readonly number[] | undefined): boolean {
  if (groups && !groups.includes(NAMED_CURVE_SECP256R1)) return false;
  if (pointFormats && !pointFormats.includes(EC_POINT_FORMAT_UNCOMPRESSED)) return false;
  return true;
}
