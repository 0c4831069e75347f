/**
 * ECDHE on P-256 for TLS_ECDHE_ECDSA_* (RFC 4492 §5.4, §5.10, RFC 8422 §5.11): ephemeral keys
 * from an injected Random, uncompressed ECPoint codec, the premaster secret (the x-coordinate of
 * the shared point) and ServerECDHParams with its signed data.
 */
import { ByteReader, ByteWriter, concatBytes, type Random } from '@m2mhub/core';
import { p256 } from '@noble/curves/nist.js';
import { type EcBackend, nobleEc } from './ec-backend';
import { PkiErrors } from './errors';

/** RFC 4492 §5.4 ECCurveType.named_curve. */
export const EC_CURVE_TYPE_NAMED = 3;
/** RFC 4492 §5.1.1 / RFC 8422 §5.1.1 NamedCurve secp256r1. */
export const NAMED_CURVE_SECP256R1 = 23;
/** RFC 4492 §5.1.2 ECPointFormat.uncompressed. */
export const EC_POINT_FORMAT_UNCOMPRESSED = 0;

export interface EphemeralKeyPair {
  /** 32-byte scalar. Never log it. */
  privateKey: Uint8Array;
  /** Uncompressed point 0x04 || X || Y (65 bytes). */
  publicKey: Uint8Array;
}

/** A fresh P-256 key pair from `random` (48 bytes reduced mod n: FIPS 186-5 A.2.1, bias < 2^-64). */
export function generateEphemeralKey(random: Random, ec: EcBackend = nobleEc): EphemeralKeyPair {
  const privateKey = p256.utils.randomSecretKey(random.bytes(48));
  return { privateKey, publicKey: ec.publicKey(privateKey) };
}

/**
 * Checks a peer's ECPoint: uncompressed form only (RFC 4492 §5.1.2, we only offer
 * `uncompressed`), on the curve and not the identity (RFC 8422 §5.11). illegal_parameter otherwise.
 */
export function validateEcPoint(point: Uint8Array): Uint8Array {
  if (point.length !== 65 || point[0] !== 0x04) throw PkiErrors.illegalParameter('ECPoint must be uncompressed P-256 (65 bytes)');
  try {
    p256.Point.fromBytes(point).assertValidity();
  } catch {
    throw PkiErrors.illegalParameter('ECPoint is not on P-256');
  }
  return point;
}

/**
 * The ECDH premaster secret: the x-coordinate of d * Q, 32 bytes big-endian
 * (RFC 4492 §5.10, FE2OSP; leading zeros kept).
 */
export function ecdhePremaster(privateKey: Uint8Array, peerPublicKey: Uint8Array, ec: EcBackend = nobleEc): Uint8Array {
  validateEcPoint(peerPublicKey);
  return ec.ecdh(privateKey, peerPublicKey);
}

export interface ServerEcdhParams {
  namedCurve: number;
  publicKey: Uint8Array;
}

/** ServerECDHParams { ECParameters curve_params; ECPoint public; } (RFC 4492 §5.4). */
export function encodeServerEcdhParams(publicKey: Uint8Array): Uint8Array {
  return new ByteWriter(70).u8(EC_CURVE_TYPE_NAMED).u16(NAMED_CURVE_SECP256R1).vector(1, publicKey).finish();
}

/** Reads ServerECDHParams from `r`; only named_curve secp256r1 is accepted (illegal_parameter). */
export function readServerEcdhParams(r: ByteReader): ServerEcdhParams {
  const curveType = r.u8();
  if (curveType !== EC_CURVE_TYPE_NAMED) throw PkiErrors.illegalParameter(`ECCurveType ${curveType} (only named_curve)`);
  const namedCurve = r.u16();
  if (namedCurve !== NAMED_CURVE_SECP256R1) throw PkiErrors.illegalParameter(`NamedCurve ${namedCurve} (only secp256r1)`);
  const point = r.vector(1);
  if (point.length === 0) throw PkiErrors.decode('empty ECPoint');
  return { namedCurve, publicKey: validateEcPoint(point) };
}

/**
 * The bytes the server signs in ServerKeyExchange (RFC 4492 §5.4, RFC 5246 §7.4.3):
 * client_random || server_random || ServerECDHParams.
 */
export function serverKeyExchangeSignedData(
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  serverEcdhParams: Uint8Array,
): Uint8Array {
  if (clientRandom.length !== 32 || serverRandom.length !== 32) throw PkiErrors.illegalParameter('randoms are 32 bytes');
  return concatBytes(clientRandom, serverRandom, serverEcdhParams);
}

/** Parses ServerECDHParams from a whole buffer (for tests and tools). */
export function parseServerEcdhParams(bytes: Uint8Array): ServerEcdhParams {
  const r = new ByteReader(bytes);
  const p = readServerEcdhParams(r);
  if (r.remaining !== 0) throw PkiErrors.decode('trailing bytes after ServerECDHParams');
  return p;
}
