/**
 * The DTLS listener's certificate material from `lwm2m.dtls.{certfile,keyfile,cacertfile}`
 * (issue #4, DESIGN.md §6): the server's X.509 chain + key, or only a key (the server then
 * presents a raw public key, RFC 7250), and the roots client certificates must chain to.
 * Read once at start; any unreadable or invalid file fails with one line naming its key.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { type LocalCredentials, loadPemCredentials, rawKeyCredentials } from '@m2mhub/dtls';
import type { DtlsListenerConfig } from './config';
import { GwErrors } from './errors';

/** Largest PEM file read (a chain of a few certificates is a few kB). */
export const DEFAULT_PKI_FILE_MAX_BYTES = 1024 * 1024;

export interface DtlsPki {
  /** The server's certificate chain + key, or a bare key for RFC 7250; undefined: PSK suites only. */
  serverCredentials?: LocalCredentials;
  /** DER trust anchors for client certificates; undefined: no client certificates asked for. */
  trustAnchors?: Uint8Array[];
}

/** Reads at most `max` bytes of a file; a larger file is an error, not a truncation. */
function readBounded(key: string, file: string, max: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw GwErrors.badConfig(`lwm2m.dtls.${key}=${JSON.stringify(file)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (let r = 1; r > 0 && n <= max; n += r) r = readSync(fd, buf, n, max + 1 - n, null);
    if (n > max) throw GwErrors.badConfig(`lwm2m.dtls.${key}=${JSON.stringify(file)}: larger than ${max} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if (GwErrors.badConfig.is(e)) throw e;
    throw GwErrors.badConfig(`lwm2m.dtls.${key}=${JSON.stringify(file)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    closeSync(fd);
  }
}

function invalid(key: string, file: string, e: unknown): never {
  throw GwErrors.badConfig(`lwm2m.dtls.${key}=${JSON.stringify(file)}: ${(e as Error).message}`);
}

/** A bare P-256 private key (SEC1 or PKCS#8 PEM) as raw-public-key credentials. */
function rawKeyFromPem(pem: string, file: string): LocalCredentials {
  let jwk: { crv?: string; d?: string };
  try {
    jwk = createPrivateKey({ key: pem, format: 'pem' }).export({ format: 'jwk' }) as { crv?: string; d?: string };
  } catch (e) {
    return invalid('keyfile', file, e);
  }
  // DTLS ECDHE_ECDSA here is P-256 only (RFC 7251, the CoAP profile of RFC 7252 §9.1.3.2).
  if (jwk.crv !== 'P-256' || !jwk.d) invalid('keyfile', file, new Error('not a P-256 (prime256v1) EC private key'));
  return rawKeyCredentials(new Uint8Array(Buffer.from(jwk.d, 'base64url')));
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** DER of every CERTIFICATE block of a PEM text (RFC 7468 §5), each checked by node's X.509 parser. */
function pemCertificates(pem: string): Uint8Array[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => new Uint8Array(new X509Certificate(block).raw));
}

/** Loads what the DTLS listener config names; nothing configured gives `{}` (PSK only). */
export function loadDtlsPki(cfg: Pick<DtlsListenerConfig, 'certfile' | 'keyfile' | 'cacertfile'>, maxBytes = DEFAULT_PKI_FILE_MAX_BYTES): DtlsPki {
  const out: DtlsPki = {};
  if (cfg.certfile && !cfg.keyfile) invalid('keyfile', cfg.keyfile, new Error('required with dtls.certfile'));
  if (cfg.keyfile) {
    const keyPem = readBounded('keyfile', cfg.keyfile, maxBytes);
    if (cfg.certfile) {
      const certPem = readBounded('certfile', cfg.certfile, maxBytes);
      try {
        out.serverCredentials = loadPemCredentials(certPem, keyPem);
      } catch (e) {
        // Which file is wrong: a certificate PEM that parses points at the key.
        let certOk = false;
        try {
          certOk = pemCertificates(certPem).length > 0;
        } catch {}
        invalid(certOk ? 'keyfile' : 'certfile', certOk ? cfg.keyfile : cfg.certfile, e);
      }
    } else out.serverCredentials = rawKeyFromPem(keyPem, cfg.keyfile);
  }
  if (cfg.cacertfile) {
    const pem = readBounded('cacertfile', cfg.cacertfile, maxBytes);
    let anchors: Uint8Array[];
    try {
      anchors = pemCertificates(pem);
      if (anchors.length === 0) throw new Error('no CERTIFICATE in the file');
    } catch (e) {
      return invalid('cacertfile', cfg.cacertfile, e);
    }
    out.trustAnchors = anchors;
  }
  return out;
}
