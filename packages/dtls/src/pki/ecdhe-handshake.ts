/**
 * The ECDHE_ECDSA part of the DTLS 1.2 handshake as pure steps the state machines call
 * (RFC 5246 §7.3 Figure 1, RFC 4492 §2.2, RFC 7250 §4): hello-extension negotiation, the
 * server's Certificate / ServerKeyExchange / CertificateRequest bodies, and the client's
 * Certificate / ClientKeyExchange / CertificateVerify bodies with the premaster secret.
 * Message headers, the transcript and the key schedule stay in `../handshake`.
 */
import type { Random } from '@m2mhub/core';
import { ExtensionType } from '../constants';
import type { EcBackend } from './ec-backend';
import { type EphemeralKeyPair, ecdhePremaster, generateEphemeralKey } from './ecdhe';
import { PkiErrors } from './errors';
import { encodeCertificateMessage } from './messages/certificate';
import { CLIENT_CERTIFICATE_TYPE_ECDSA_SIGN, type CertificateRequest, encodeCertificateRequest } from './messages/certificate-request';
import {
  CertificateType,
  type CertificateTypeId,
  encodeCertificateTypeList,
  encodeCertificateTypeSelection,
  negotiateCertificateType,
  parseCertificateTypeList,
  parseCertificateTypeSelection,
} from './messages/certificate-type';
import { signCertificateVerify } from './messages/certificate-verify';
import { encodeEcdheClientKeyExchange, parseEcdheClientKeyExchange } from './messages/client-key-exchange';
import { ecdheUsable, encodeEcPointFormats, encodeSupportedGroups, parseEcPointFormats, parseSupportedGroups } from './messages/ec-extensions';
import { type EcdheServerKeyExchange, encodeEcdheServerKeyExchange } from './messages/server-key-exchange';
import {
  ECDSA_SHA256,
  type SignatureAndHash,
  encodeSignatureAlgorithms,
  parseSignatureAlgorithms,
  selectSignatureAlgorithm,
} from './messages/signature-algorithms';
import { type LocalCredentials, localCertificateMessage } from './peer-auth';

/** Same shape as the handshake codec's `Extension`. */
export interface HelloExtension {
  type: number;
  data: Uint8Array;
}

const find = (exts: readonly HelloExtension[], type: number) => exts.find((e) => e.type === type)?.data;

// ------------------------------------------------------------------------------------ server

export interface EcdheServerOptions {
  /** Our key and what we present: X.509 when `chain` is non-empty, a raw public key always. */
  credentials: LocalCredentials;
  /**
   * Client certificate types we can check, in our preference order (X.509 needs a trust store,
   * RawPublicKey a raw-public-key store). Empty: no CertificateRequest, the client stays anonymous.
   */
  clientCertificateTypes: readonly CertificateTypeId[];
  /** EC backend for the ephemeral key, ServerKeyExchange signature and ECDH; noble by default. */
  ec?: EcBackend;
}

export interface EcdheServerNegotiation {
  serverCertificateType: CertificateTypeId;
  /** Undefined when no client certificate is requested. */
  clientCertificateType: CertificateTypeId | undefined;
  /** What we sign ServerKeyExchange with (from the client's signature_algorithms). */
  signatureAlgorithm: SignatureAndHash;
  /** Extensions to append to our ServerHello. */
  serverHelloExtensions: HelloExtension[];
}

/** Certificate types we can present with `creds`, in preference order. */
function presentable(creds: LocalCredentials): CertificateTypeId[] {
  return creds.chain.length > 0 ? [CertificateType.x509, CertificateType.rawPublicKey] : [CertificateType.rawPublicKey];
}

/**
 * Server, on a ClientHello for which an ECDHE_ECDSA suite is being considered. Throws
 * handshake_failure (curve, point format or signature algorithm not in common) or
 * unsupported_certificate (no certificate type in common, RFC 7250 §4.1).
 */
export function negotiateEcdheServer(clientExtensions: readonly HelloExtension[], options: EcdheServerOptions): EcdheServerNegotiation {
  const groups = find(clientExtensions, ExtensionType.supportedGroups);
  const formats = find(clientExtensions, ExtensionType.ecPointFormats);
  // RFC 4492 §4: only secp256r1 and the uncompressed form.
  if (!ecdheUsable(groups && parseSupportedGroups(groups), formats && parseEcPointFormats(formats))) {
    throw PkiErrors.noCommonParameters('secp256r1 with uncompressed points not offered');
  }
  const sigAlgs = find(clientExtensions, ExtensionType.signatureAlgorithms);
  const signatureAlgorithm = selectSignatureAlgorithm(sigAlgs && parseSignatureAlgorithms(sigAlgs));
  const serverHelloExtensions: HelloExtension[] = [];
  // RFC 8422 §5.2: answer a client's ec_point_formats with ours.
  if (formats) serverHelloExtensions.push({ type: ExtensionType.ecPointFormats, data: encodeEcPointFormats() });

  const serverTypesExt = find(clientExtensions, ExtensionType.serverCertificateType);
  const serverCertificateType = negotiateCertificateType(
    serverTypesExt && parseCertificateTypeList(serverTypesExt),
    presentable(options.credentials),
  );
  // RFC 7250 §4.2: the ServerHello carries a type only in answer to the client's extension.
  if (serverTypesExt) {
    serverHelloExtensions.push({ type: ExtensionType.serverCertificateType, data: encodeCertificateTypeSelection(serverCertificateType) });
  }
  let clientCertificateType: CertificateTypeId | undefined;
  if (options.clientCertificateTypes.length > 0) {
    const clientTypesExt = find(clientExtensions, ExtensionType.clientCertificateType);
    clientCertificateType = negotiateCertificateType(clientTypesExt && parseCertificateTypeList(clientTypesExt), options.clientCertificateTypes);
    // RFC 7250 §4.2: only when a CertificateRequest follows.
    if (clientTypesExt) {
      serverHelloExtensions.push({ type: ExtensionType.clientCertificateType, data: encodeCertificateTypeSelection(clientCertificateType) });
    }
  }
  return { serverCertificateType, clientCertificateType, signatureAlgorithm, serverHelloExtensions };
}

/** False when `negotiateEcdheServer` would fail: lets suite selection fall back to PSK. */
export function ecdheEcdsaAcceptable(clientExtensions: readonly HelloExtension[], options: EcdheServerOptions): boolean {
  try {
    negotiateEcdheServer(clientExtensions, options);
    return true;
  } catch {
    return false;
  }
}

export interface EcdheServerFlight {
  /** Keep for `ecdheServerPremaster`; never log. */
  ephemeral: EphemeralKeyPair;
  /** Body of Certificate (11). */
  certificate: Uint8Array;
  /** Body of ServerKeyExchange (12). */
  serverKeyExchange: Uint8Array;
  /** Body of CertificateRequest (13), when a client certificate is requested. */
  certificateRequest?: Uint8Array;
}

/** Server flight 4 bodies after ServerHello (RFC 5246 §7.3): Certificate, ServerKeyExchange, [CertificateRequest]. */
export function buildEcdheServerFlight(
  neg: EcdheServerNegotiation,
  options: EcdheServerOptions,
  input: { clientRandom: Uint8Array; serverRandom: Uint8Array; random: Random },
): EcdheServerFlight {
  const ephemeral = generateEphemeralKey(input.random, options.ec);
  const flight: EcdheServerFlight = {
    ephemeral,
    certificate: encodeCertificateMessage(localCertificateMessage(options.credentials, neg.serverCertificateType)),
    serverKeyExchange: encodeEcdheServerKeyExchange({
      clientRandom: input.clientRandom,
      serverRandom: input.serverRandom,
      ephemeralPublicKey: ephemeral.publicKey,
      privateKey: options.credentials.privateKey,
      algorithm: neg.signatureAlgorithm,
      ...(options.ec ? { ec: options.ec } : {}),
    }),
  };
  if (neg.clientCertificateType !== undefined) flight.certificateRequest = encodeCertificateRequest();
  return flight;
}

/** Server, on ClientKeyExchange: the premaster secret (RFC 4492 §5.10). */
export function ecdheServerPremaster(clientKeyExchange: Uint8Array, ephemeral: EphemeralKeyPair, ec?: EcBackend): Uint8Array {
  return ecdhePremaster(ephemeral.privateKey, parseEcdheClientKeyExchange(clientKeyExchange), ec);
}

// ------------------------------------------------------------------------------------ client

export interface EcdheClientOptions {
  /** Our key for client authentication; without it a CertificateRequest gets an empty X.509 list. */
  credentials?: LocalCredentials;
  /**
   * Server certificate types we can check, in preference order (X.509 needs a trust store,
   * RawPublicKey a pinned raw-public-key store). Default: X.509 only.
   */
  serverCertificateTypes?: readonly CertificateTypeId[];
}

/** ClientHello extensions for the ECDHE_ECDSA suites (RFC 8422 §5.1, RFC 5246 §7.4.1.4.1, RFC 7250 §3). */
export function ecdheClientHelloExtensions(options: EcdheClientOptions): HelloExtension[] {
  const exts: HelloExtension[] = [
    { type: ExtensionType.supportedGroups, data: encodeSupportedGroups() },
    { type: ExtensionType.ecPointFormats, data: encodeEcPointFormats() },
    { type: ExtensionType.signatureAlgorithms, data: encodeSignatureAlgorithms() },
  ];
  const clientTypes = options.credentials ? presentable(options.credentials) : [];
  // RFC 7250 §4.1: an absent extension means X.509 only, so send it only when it says more.
  if (clientTypes.length > 0 && !(clientTypes.length === 1 && clientTypes[0] === CertificateType.x509)) {
    exts.push({ type: ExtensionType.clientCertificateType, data: encodeCertificateTypeList(clientTypes) });
  }
  const serverTypes = options.serverCertificateTypes ?? [CertificateType.x509];
  if (!(serverTypes.length === 1 && serverTypes[0] === CertificateType.x509)) {
    exts.push({ type: ExtensionType.serverCertificateType, data: encodeCertificateTypeList(serverTypes) });
  }
  return exts;
}

export interface EcdheClientNegotiation {
  serverCertificateType: CertificateTypeId;
  /** The type to answer a CertificateRequest with. */
  clientCertificateType: CertificateTypeId;
}

/** Client, on a ServerHello choosing an ECDHE_ECDSA suite: the certificate types it selected (RFC 7250 §4.2). */
export function readEcdheServerHello(serverExtensions: readonly HelloExtension[], options: EcdheClientOptions): EcdheClientNegotiation {
  const pick = (type: number, offered: readonly CertificateTypeId[]): CertificateTypeId => {
    const ext = find(serverExtensions, type);
    if (!ext) return CertificateType.x509;
    const chosen = parseCertificateTypeSelection(ext);
    const ours = offered.find((t) => t === chosen);
    if (ours === undefined) throw PkiErrors.illegalParameter(`server chose certificate type ${chosen}, which we did not offer`);
    return ours;
  };
  const serverCertificateType = pick(ExtensionType.serverCertificateType, options.serverCertificateTypes ?? [CertificateType.x509]);
  const clientCertificateType = pick(ExtensionType.clientCertificateType, options.credentials ? presentable(options.credentials) : [CertificateType.x509]);
  return { serverCertificateType, clientCertificateType };
}

export interface EcdheClientFlight {
  /** Body of Certificate (11), when the server sent a CertificateRequest. */
  certificate?: Uint8Array;
  /** Body of ClientKeyExchange (16). */
  clientKeyExchange: Uint8Array;
  /** The premaster secret for the key schedule; never log. */
  premaster: Uint8Array;
  /**
   * Body of CertificateVerify (15), when we sent a non-empty certificate: call it with the
   * SHA-256 transcript digest after Certificate and ClientKeyExchange entered the transcript
   * (RFC 5246 §7.4.8).
   */
  certificateVerify?: (transcriptDigest: Uint8Array) => Uint8Array;
}

/**
 * Client flight 5 bodies (RFC 5246 §7.3): [Certificate], ClientKeyExchange, [CertificateVerify].
 * `serverKeyExchange` must already be verified (`verifyEcdheServerKeyExchange`).
 */
export function buildEcdheClientFlight(input: {
  serverKeyExchange: EcdheServerKeyExchange;
  certificateRequest: CertificateRequest | undefined;
  negotiation: EcdheClientNegotiation;
  credentials: LocalCredentials | undefined;
  random: Random;
  /** EC backend for the ephemeral key and ECDH; noble by default. */
  ec?: EcBackend;
}): EcdheClientFlight {
  const ephemeral = generateEphemeralKey(input.random, input.ec);
  const flight: EcdheClientFlight = {
    clientKeyExchange: encodeEcdheClientKeyExchange(ephemeral.publicKey),
    premaster: ecdhePremaster(ephemeral.privateKey, input.serverKeyExchange.publicKey, input.ec),
  };
  const req = input.certificateRequest;
  if (!req) return flight;
  const creds = input.credentials;
  const type = input.negotiation.clientCertificateType;
  // RFC 5246 §7.4.4/§7.4.6: our ECDSA key fits when ecdsa_sign and ecdsa/sha256 are acceptable;
  // otherwise (or with no key) an empty X.509 list.
  const fits =
    req.certificateTypes.includes(CLIENT_CERTIFICATE_TYPE_ECDSA_SIGN) &&
    req.signatureAlgorithms.some((a) => a.hash === ECDSA_SHA256.hash && a.signature === ECDSA_SHA256.signature);
  if (!creds || !fits || (type === CertificateType.x509 && creds.chain.length === 0)) {
    if (type !== CertificateType.x509) throw PkiErrors.noCommonParameters('cannot answer the CertificateRequest with a raw public key');
    flight.certificate = encodeCertificateMessage({ type: CertificateType.x509, chain: [] });
    return flight;
  }
  flight.certificate = encodeCertificateMessage(localCertificateMessage(creds, type));
  flight.certificateVerify = (transcriptDigest) => signCertificateVerify({ privateKey: creds.privateKey, transcriptDigest });
  return flight;
}
