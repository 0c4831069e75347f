/**
 * The certificate / raw-public-key half of DTLS 1.2 ECDHE_ECDSA (issue #4): pure, bounded
 * parsers and codecs the handshake plugs in. Nothing here does I/O or reads the clock.
 */
export { DerReader, Tag, contextTag, type DerElement } from './asn1';
export { createNodeEc, nobleEc, type EcBackend } from './ec-backend';
export { validateCertificateChain, type ChainValidationOptions, type ValidatedChain } from './chain';
export {
  ecdsaCompactToDer,
  ecdsaDerToCompact,
  ecdsaSign,
  ecdsaSignDigest,
  ecdsaVerify,
  ecdsaVerifyDigest,
  hashMessage,
  p256PublicKey,
  type EcdsaVerifyInput,
} from './ecdsa';
export {
  EC_CURVE_TYPE_NAMED,
  EC_POINT_FORMAT_UNCOMPRESSED,
  NAMED_CURVE_SECP256R1,
  ecdhePremaster,
  encodeServerEcdhParams,
  generateEphemeralKey,
  parseServerEcdhParams,
  readServerEcdhParams,
  serverKeyExchangeSignedData,
  validateEcPoint,
  type EphemeralKeyPair,
  type ServerEcdhParams,
} from './ecdhe';
export { PkiAlert, PkiErrors } from './errors';
export { DEFAULT_PKI_LIMITS, pkiLimits, type PkiLimits } from './limits';
export { formatName, type DistinguishedName, type NameAttribute } from './name';
export { Oid } from './oids';
export {
  certificateToPem,
  parsePem,
  privateKeyToPem,
  publicKeyToPem,
  readCertificatesPem,
  readPrivateKeyPem,
  toPem,
  type EcPrivateKey,
  type PemBlock,
} from './pem';
export {
  authenticatePeer,
  loadPemCredentials,
  localCertificateMessage,
  rawKeyCredentials,
  type AuthenticatedPeer,
  type LocalCredentials,
  type PeerAuthOptions,
} from './peer-auth';
export {
  decodeEcPoint,
  decodeP256Spki,
  encodeP256Spki,
  parseRawPublicKeyBase64,
  spkiFingerprint,
  type EcCurve,
  type PublicKeyInfo,
} from './spki';
export {
  InMemoryRawPublicKeyStore,
  InMemoryTrustStore,
  type DerTrustStore,
  type RawPublicKeyStore,
  type TrustStore,
} from './stores';
export {
  KEY_USAGE_NAMES,
  parseCertificate,
  type Certificate,
  type Extension as CertificateExtension,
  type KeyUsage,
  type SignatureAlgorithm,
  type SignatureHash,
} from './x509';
// Handshake message codecs (RFC 5246 §7.4, RFC 4492 §5, RFC 7250 §3).
export { encodeCertificateMessage, parseCertificateMessage, type CertificateMessage } from './messages/certificate';
export {
  CLIENT_CERTIFICATE_TYPE_ECDSA_SIGN,
  encodeCertificateRequest,
  parseCertificateRequest,
  type CertificateRequest,
} from './messages/certificate-request';
export {
  CertificateType,
  encodeCertificateTypeList,
  encodeCertificateTypeSelection,
  negotiateCertificateType,
  parseCertificateTypeList,
  parseCertificateTypeSelection,
  type CertificateTypeId,
} from './messages/certificate-type';
export {
  certificateVerifyDigest,
  encodeCertificateVerify,
  parseCertificateVerify,
  signCertificateVerify,
  verifyCertificateVerify,
} from './messages/certificate-verify';
export { encodeEcdheClientKeyExchange, parseEcdheClientKeyExchange } from './messages/client-key-exchange';
export {
  ecdheUsable,
  encodeEcPointFormats,
  encodeSupportedGroups,
  parseEcPointFormats,
  parseSupportedGroups,
} from './messages/ec-extensions';
export {
  encodeEcdheServerKeyExchange,
  parseEcdheServerKeyExchange,
  verifyEcdheServerKeyExchange,
  type EcdheServerKeyExchange,
  type SignServerKeyExchangeInput,
} from './messages/server-key-exchange';
export {
  ECDSA_SHA256,
  HashAlgorithm,
  SUPPORTED_ECDSA_ALGORITHMS,
  SignatureAlgorithmId,
  ecdsaHashOf,
  encodeSignatureAlgorithms,
  parseSignatureAlgorithms,
  selectSignatureAlgorithm,
  type DigitallySigned,
  type SignatureAndHash,
} from './messages/signature-algorithms';
// The ECDHE_ECDSA handshake steps the state machines call (RFC 5246 §7.3, RFC 4492 §2.2, RFC 7250 §4).
export {
  buildEcdheClientFlight,
  buildEcdheServerFlight,
  ecdheClientHelloExtensions,
  ecdheEcdsaAcceptable,
  ecdheServerPremaster,
  negotiateEcdheServer,
  readEcdheServerHello,
  type EcdheClientFlight,
  type EcdheClientNegotiation,
  type EcdheClientOptions,
  type EcdheServerFlight,
  type EcdheServerNegotiation,
  type EcdheServerOptions,
  type HelloExtension,
} from './ecdhe-handshake';
