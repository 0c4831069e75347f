/**
 * ServerKeyExchange for ECDHE_ECDSA in TLS 1.2 / DTLS 1.2 (RFC 4492 §5.4 with RFC 5246 §7.4.3):
 * ServerECDHParams followed by a DigitallySigned over client_random + server_random + params.
 */
import { ByteWriter } from '@m2mhub/core';
import { type EcBackend, nobleEc } from '../ec-backend';
import { encodeServerEcdhParams, readServerEcdhParams, serverKeyExchangeSignedData } from '../ecdhe';
import { PkiErrors } from '../errors';
import { ECDSA_SHA256, type SignatureAndHash, ecdsaHashOf, readDigitallySigned, writeDigitallySigned } from './signature-algorithms';
import { parseWhole } from './wire';

export interface EcdheServerKeyExchange {
  /** The server's ephemeral public point (uncompressed, validated on P-256). */
  publicKey: Uint8Array;
  /** The ServerECDHParams bytes exactly as received (they are what was signed). */
  params: Uint8Array;
  algorithm: SignatureAndHash;
  /** DER Ecdsa-Sig-Value. */
  signature: Uint8Array;
}

export function parseEcdheServerKeyExchange(body: Uint8Array): EcdheServerKeyExchange {
  return parseWhole(body, 'ServerKeyExchange', (r) => {
    const start = r.offset;
    const p = readServerEcdhParams(r);
    const params = body.subarray(start, r.offset);
    const ds = readDigitallySigned(r);
    return { publicKey: p.publicKey, params, algorithm: ds.algorithm, signature: ds.signature };
  });
}

export interface SignServerKeyExchangeInput {
  clientRandom: Uint8Array;
  serverRandom: Uint8Array;
  /** Our ephemeral public point (from `generateEphemeralKey`). */
  ephemeralPublicKey: Uint8Array;
  /** The long-term P-256 key of our certificate or raw public key. */
  privateKey: Uint8Array;
  /** From `selectSignatureAlgorithm(peer's signature_algorithms)`; ecdsa/sha256 by default. */
  algorithm?: SignatureAndHash;
  /** Signing backend; `nobleEc` by default. */
  ec?: EcBackend;
}

/** Builds the whole ServerKeyExchange body, signed with our long-term key. */
export function encodeEcdheServerKeyExchange(input: SignServerKeyExchangeInput): Uint8Array {
  const algorithm = input.algorithm ?? ECDSA_SHA256;
  const hash = ecdsaHashOf(algorithm);
  if (!hash) throw PkiErrors.noCommonParameters('cannot sign with the requested algorithm');
  const params = encodeServerEcdhParams(input.ephemeralPublicKey);
  const signed = serverKeyExchangeSignedData(input.clientRandom, input.serverRandom, params);
  const w = new ByteWriter(params.length + 80).bytes(params);
  writeDigitallySigned(w, { algorithm, signature: (input.ec ?? nobleEc).sign(input.privateKey, signed, hash) });
  return w.finish();
}

/**
 * Client side: checks the ServerKeyExchange signature with the server's authenticated public
 * key (leaf certificate or raw public key). decrypt_error when it does not verify (RFC 5246
 * §7.2.2), illegal_parameter for an algorithm we did not offer.
 */
export function verifyEcdheServerKeyExchange(
  ske: EcdheServerKeyExchange,
  input: { clientRandom: Uint8Array; serverRandom: Uint8Array; serverPublicKey: Uint8Array; ec?: EcBackend },
): void {
  const hash = ecdsaHashOf(ske.algorithm);
  if (!hash) {
    throw PkiErrors.illegalParameter(`ServerKeyExchange signed with ${ske.algorithm.hash}/${ske.algorithm.signature}`);
  }
  const signed = serverKeyExchangeSignedData(input.clientRandom, input.serverRandom, ske.params);
  if (!(input.ec ?? nobleEc).verify({ curve: 'P-256', point: input.serverPublicKey }, signed, ske.signature, hash)) {
    throw PkiErrors.signature('ServerKeyExchange signature does not verify');
  }
}
