export * from './client';
export * from './config';
export * from './constants';
export type { Aead, CipherBackend } from './crypto/aead';
export { nobleCcm, nodeCcm } from './crypto/aes-ccm';
export { StreamCcm, streamCcm } from './crypto/aes-ccm-stream';
export { nobleGcm, nodeGcm } from './crypto/aes-gcm';
export { prf, pSha256 } from './crypto/prf';
export { CIPHER_SUITES, type CipherSuite, suiteById, suiteByName } from './crypto/suites';
export { DtlsErrors } from './errors';
export * from './server';
export * from './stores';
export * from './transport';
export { createProtection, type RecordProtection } from './record/protection';
// Credentials for ECDHE_ECDSA from the PKI half (the rest is under src/pki).
export {
  InMemoryRawPublicKeyStore,
  type LocalCredentials,
  loadPemCredentials,
  rawKeyCredentials,
  spkiFingerprint,
} from './pki/index';
