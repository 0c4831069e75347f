/**
 * Test helper (not a test): builds a small PKI with Debian's `openssl` in a temp directory:
 * root CA -> intermediate CA -> leaf "device-001", plus an expired leaf (openssl ca
 * -startdate/-enddate, as `x509 -not_before` needs OpenSSL 3.4), a leaf under a non-CA
 * intermediate, a leaf of another root, an RSA root and a P-384 root signing with SHA-384.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isM2MError } from '@m2mhub/core';

export function assertOpenssl(): void {
  let out = '';
  try {
    out = execFileSync('openssl', ['version'], { encoding: 'utf8' });
  } catch {
    assert.fail('the openssl binary is required for the PKI tests (apt-get install openssl)');
  }
  assert.match(out, /OpenSSL 3\./);
}

export class OpensslDir {
  readonly dir: string;
  constructor() {
    assertOpenssl();
    this.dir = mkdtempSync(join(tmpdir(), 'm2mhub-pki-'));
  }
  path(name: string): string {
    return join(this.dir, name);
  }
  run(args: string[], input?: Uint8Array | string): Buffer {
    return execFileSync('openssl', args, { cwd: this.dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
  }
  write(name: string, data: string | Uint8Array): string {
    writeFileSync(this.path(name), data);
    return this.path(name);
  }
  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }
  text(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }
  /** DER of a PEM certificate file. */
  der(name: string): Uint8Array {
    return new Uint8Array(this.run(['x509', '-in', name, '-outform', 'DER']));
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const EXTENSIONS = `
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
[ca0]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
[notca]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyCertSign
[leaf]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth,serverAuth
[serveronly]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
[leafnosig]
basicConstraints=CA:FALSE
keyUsage=critical,keyEncipherment
[unknowncrit]
basicConstraints=CA:FALSE
1.3.6.1.4.1.99999.1=critical,ASN1:UTF8String:surprise
`;

const CA_CONFIG = `
[ca]
default_ca=CA_default
[CA_default]
dir=./ca
database=$dir/index.txt
new_certs_dir=$dir/newcerts
serial=$dir/serial
default_md=sha256
policy=policy_any
unique_subject=no
[policy_any]
commonName=supplied
[leaf]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
`;

export function makePki(): OpensslDir {
  const o = new OpensslDir();
  o.write('ext.cnf', EXTENSIONS);
  // Root: SEC1 key with an EC PARAMETERS block, as `openssl ecparam -genkey` writes it.
  o.run(['ecparam', '-name', 'prime256v1', '-genkey', '-out', 'root.key']);
  o.run(['req', '-x509', '-new', '-key', 'root.key', '-subj', '/O=m2mhub test/CN=Test Root', '-days', '3650', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root.pem']);
  const issue = (name: string, subj: string, ca: string, ext: string, days = '365', md = '-sha256', serial = '7') => {
    o.run(['req', '-new', '-key', `${name}.key`, '-subj', subj, '-out', `${name}.csr`]);
    o.run(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', serial, '-days', days,
      md, '-extfile', 'ext.cnf', '-extensions', ext, '-out', `${name}.pem`]);
  };
  const pkcs8 = (name: string) => o.run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
  pkcs8('inter');
  issue('inter', '/CN=Test Intermediate', 'root', 'ca0', '1000', '-sha256', '2');
  pkcs8('leaf');
  issue('leaf', '/O=Acme/CN=device-001', 'inter', 'leaf', '365', '-sha256', '0x0123456789abcdef');
  // A CA under the pathlen:0 intermediate (so the path is too long for it) and a leaf under that.
  pkcs8('sub');
  issue('sub', '/CN=Sub CA', 'inter', 'ca', '365', '-sha256', '12');
  pkcs8('undersub');
  issue('undersub', '/CN=device-undersub', 'sub', 'leaf', '365', '-sha256', '13');
  // A leaf signed directly by the root.
  pkcs8('direct');
  issue('direct', '/CN=device-direct', 'root', 'leaf', '365', '-sha256', '9');
  // An intermediate that is not a CA, and a leaf under it.
  pkcs8('notca');
  issue('notca', '/CN=Not A CA', 'root', 'notca', '365', '-sha256', '10');
  pkcs8('undernotca');
  issue('undernotca', '/CN=device-under-notca', 'notca', 'leaf', '365', '-sha256', '11');
  // Another root and a leaf of it.
  o.run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'other.key']);
  o.run(['req', '-x509', '-new', '-key', 'other.key', '-subj', '/CN=Other Root', '-days', '3650', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-out', 'other.pem']);
  pkcs8('otherleaf');
  issue('otherleaf', '/CN=device-other', 'other', 'leaf');
  // A leaf only for TLS servers (extKeyUsage serverAuth).
  pkcs8('serveronly');
  issue('serveronly', '/CN=server-only', 'inter', 'serveronly', '365', '-sha256', '14');
  // A leaf whose keyUsage forbids signatures, one with an unknown critical extension, one without CN.
  pkcs8('nosig');
  issue('nosig', '/CN=device-nosig', 'inter', 'leafnosig');
  pkcs8('crit');
  issue('crit', '/CN=device-crit', 'inter', 'unknowncrit');
  pkcs8('nocn');
  issue('nocn', '/O=Acme/OU=no common name', 'inter', 'leaf');
  // P-384 root signing a P-256 leaf with ecdsa-with-SHA384.
  o.run(['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', 'p384root.key']);
  o.run(['req', '-x509', '-new', '-key', 'p384root.key', '-subj', '/CN=P384 Root', '-days', '3650', '-sha384',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-out', 'p384root.pem']);
  pkcs8('p384leaf');
  issue('p384leaf', '/CN=device-p384', 'p384root', 'leaf', '365', '-sha384');
  // An expired leaf: notBefore 2020-01-01, notAfter 2021-01-01.
  mkdirSync(o.path('ca/newcerts'), { recursive: true });
  o.write('ca/index.txt', '');
  o.write('ca/serial', '1000\n');
  o.write('ca.cnf', CA_CONFIG);
  o.run(['req', '-new', '-key', 'leaf.key', '-subj', '/CN=expired-device', '-out', 'expired.csr']);
  o.run(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'inter.pem', '-keyfile', 'inter.key', '-in', 'expired.csr',
    '-startdate', '20200101000000Z', '-enddate', '20210101000000Z', '-extensions', 'leaf', '-notext', '-out', 'expired.pem']);
  return o;
}

/** An RSA self-signed root (slow keygen, so separate). */
export function makeRsaRoot(o: OpensslDir): void {
  o.run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-subj', '/CN=RSA Root', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-out', 'rsa.pem']);
  o.run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'rsaleaf.key']);
  o.run(['req', '-new', '-key', 'rsaleaf.key', '-subj', '/CN=device-rsa-signed', '-out', 'rsaleaf.csr']);
  o.run(['x509', '-req', '-in', 'rsaleaf.csr', '-CA', 'rsa.pem', '-CAkey', 'rsa.key', '-set_serial', '5', '-days', '30',
    '-sha256', '-extfile', 'ext.cnf', '-extensions', 'leaf', '-out', 'rsaleaf.pem']);
}

/** The TLS alert of the typed error `fn` throws (fails on success or an untyped error). */
export function alertOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(isM2MError(err), `untyped error ${String(err)}`);
    return err.wire.alert;
  }
  assert.fail('expected a rejection');
}
