/** Key derivation of TLS 1.2 (RFC 5246 §6.3, §8.1), EMS (RFC 7627 §4) and the PSK premaster (RFC 4279 §2). */
import { concatBytes } from '@m2mhub/core';
import { prf } from './prf';
import type { CipherSuite } from './suites';

export interface KeyBlock {
  clientMacKey: Uint8Array;
  serverMacKey: Uint8Array;
  clientKey: Uint8Array;
  serverKey: Uint8Array;
  clientIv: Uint8Array;
  serverIv: Uint8Array;
}

/** premaster = uint16 N || N zero bytes || uint16 N || psk (RFC 4279 §2, "other_secret" all zeros). */
export function pskPremaster(psk: Uint8Array): Uint8Array {
  const n = psk.length;
  const out = new Uint8Array(4 + 2 * n);
  out[0] = n >>> 8;
  out[1] = n & 0xff;
  out[2 + n] = n >>> 8;
  out[3 + n] = n & 0xff;
  out.set(psk, 4 + n);
  return out;
}

/** master_secret; with `sessionHash` it is the extended master secret of RFC 7627 §4. */
export function masterSecret(
  premaster: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  sessionHash?: Uint8Array,
): Uint8Array {
  if (sessionHash) return prf(premaster, 'extended master secret', sessionHash, 48);
  return prf(premaster, 'master secret', concatBytes(clientRandom, serverRandom), 48);
}

/** key_block = PRF(master, "key expansion", server_random + client_random), sliced in order (RFC 5246 §6.3). */
export function keyBlock(master: Uint8Array, suite: CipherSuite, clientRandom: Uint8Array, serverRandom: Uint8Array): KeyBlock {
  const m = suite.macKeyLength;
  const k = suite.encKeyLength;
  const iv = suite.fixedIvLength;
  const b = prf(master, 'key expansion', concatBytes(serverRandom, clientRandom), 2 * (m + k + iv));
  let o = 0;
  const take = (n: number) => b.slice(o, (o += n));
  return {
    clientMacKey: take(m),
    serverMacKey: take(m),
    clientKey: take(k),
    serverKey: take(k),
    clientIv: take(iv),
    serverIv: take(iv),
  };
}

/** verify_data = PRF(master, finished_label, Hash(handshake_messages))[0..11] (RFC 5246 §7.4.9). */
export function verifyData(master: Uint8Array, label: 'client finished' | 'server finished', handshakeHash: Uint8Array): Uint8Array {
  return prf(master, label, handshakeHash, 12);
}
