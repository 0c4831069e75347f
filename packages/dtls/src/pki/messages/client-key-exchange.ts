/**
 * ClientKeyExchange for ECDHE (RFC 4492 §5.7): ClientECDiffieHellmanPublic with the explicit
 * ECPoint ecdh_Yc<1..2^8-1> (the implicit form is only for fixed_ecdh client certificates).
 */
import { ByteWriter } from '@m2mhub/core';
import { validateEcPoint } from '../ecdhe';
import { PkiErrors } from '../errors';
import { parseWhole } from './wire';

export function encodeEcdheClientKeyExchange(publicKey: Uint8Array): Uint8Array {
  return new ByteWriter(1 + publicKey.length).vector(1, publicKey).finish();
}

/** The client's ephemeral public point, validated on P-256 (illegal_parameter otherwise). */
export function parseEcdheClientKeyExchange(body: Uint8Array): Uint8Array {
  return parseWhole(body, 'ClientKeyExchange', (r) => {
    const point = r.vector(1);
    if (point.length === 0) throw PkiErrors.decode('empty ecdh_Yc');
    return validateEcPoint(point);
  });
}
