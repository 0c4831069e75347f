import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CoapEndpoint } from '@m2mhub/coap';
import { silentLogger, systemScheduler } from '@m2mhub/core';
import { createMemoryStore } from '@m2mhub/store';
import { CredentialStore, defaultDtlsTransport, loadDtlsPki, parseConfig, SecretBox } from '../src/index';

const none = { certfile: '', keyfile: '', cacertfile: '' };

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

describe('DTLS listener PKI files (issue #4)', () => {
  let dir: string;
  const f = (name: string) => join(dir, name);
  before(() => {
    try {
      execFileSync('sh', ['-c', 'command -v openssl'], { stdio: 'pipe' });
    } catch {
      assert.fail('openssl is not installed; this test needs it');
    }
    dir = mkdtempSync(join(tmpdir(), 'gw-pki-'));
    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key']);
    openssl(dir, ['req', '-x509', '-new', '-key', 'server.key', '-days', '30', '-subj', '/CN=hub', '-out', 'server.pem']);
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'p384.key']);
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'pkcs8.key']);
    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'device.key']);
    writeFileSync(f('garbage.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    writeFileSync(f('empty.pem'), 'nothing here\n');
  });

  it('RFC 7252 §9.1.3.1: no server key configured: PSK only (no credentials, no trust anchors)', () => {
    assert.deepEqual(loadDtlsPki(none), {});
  });

  it('RFC 7252 §9.1.3.1: without a server key only PSK suites are offered: certificate and raw-key clients fail; with certfile+keyfile a certificate client, with keyfile alone a raw-key client (RFC 7250) gets through', async () => {
    for (const tool of ['coap-client-openssl', 'coap-client-gnutls']) {
      try {
        execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
      } catch {
        assert.fail(`${tool} is not installed; this test needs it`);
      }
    }
    const store = createMemoryStore();
    await store.open();
    const credentials = new CredentialStore(store.kv('creds'), SecretBox.fromFile(join(dir, 'secret.key')));
    const get = async (pki: ReturnType<typeof loadDtlsPki>, tool = 'coap-client-openssl', auth = ['-c', f('server.pem'), '-j', f('server.key')]) => {
      const transport = defaultDtlsTransport({ bind: '127.0.0.1', port: 0, credentials, scheduler: systemScheduler, logger: silentLogger, pki });
      const ep = new CoapEndpoint({ transport });
      ep.route('GET', '/hello', () => ({ code: '2.05', payload: new TextEncoder().encode('hi') }));
      await ep.start();
      try {
        const out = await new Promise<string>((res) => {
          execFile(tool, ['-n', ...auth, '-B', '3', `coaps://127.0.0.1:${ep.address().port}/hello`], { timeout: 10_000 }, (_err, stdout, stderr) =>
            res(`${stdout}${stderr}`),
          );
        });
        return out;
      } finally {
        await ep.close();
      }
    };
    assert.doesNotMatch(await get({}), /^hi/m);
    // The client presents the self-signed certificate, trusted here as its own root.
    assert.match(await get(loadDtlsPki({ certfile: f('server.pem'), keyfile: f('server.key'), cacertfile: f('server.pem') })), /^hi/m);
    // keyfile alone: the server presents its raw public key (RFC 7250) and a stored client raw key gets through.
    const spki = createPublicKey(createPrivateKey(readFileSync(f('device.key')))).export({ type: 'spki', format: 'der' }).toString('base64');
    await credentials.put('dev-rpk', { rpk: { publicKey: spki } });
    assert.match(await get(loadDtlsPki({ ...none, keyfile: f('server.key') }), 'coap-client-gnutls', ['-M', f('device.key')]), /^hi/m);
    assert.doesNotMatch(await get({}, 'coap-client-gnutls', ['-M', f('device.key')]), /^hi/m);
  });

  it('certfile + keyfile: the X.509 chain and key; keyfile alone (SEC1 or PKCS#8): a raw public key (RFC 7250)', () => {
    const x509 = loadDtlsPki({ ...none, certfile: f('server.pem'), keyfile: f('server.key') });
    assert.equal(x509.serverCredentials?.chain.length, 1);
    const raw = loadDtlsPki({ ...none, keyfile: f('server.key') });
    assert.equal(raw.serverCredentials?.chain.length, 0);
    assert.deepEqual(raw.serverCredentials?.spki, x509.serverCredentials?.spki);
    assert.equal(loadDtlsPki({ ...none, keyfile: f('pkcs8.key') }).serverCredentials?.chain.length, 0);
    const ca = loadDtlsPki({ ...none, cacertfile: f('server.pem') });
    assert.equal(ca.trustAnchors?.length, 1);
  });

  it('every bad file fails with one M2M_LWGW_BAD_CONFIG line naming its key', () => {
    const fails = (cfg: Partial<typeof none>, re: RegExp, maxBytes?: number) =>
      assert.throws(
        () => loadDtlsPki({ ...none, ...cfg }, maxBytes),
        (e: Error & { code?: string }) => e.code === 'M2M_LWGW_BAD_CONFIG' && re.test(e.message) && !e.message.includes('\n'),
      );
    fails({ keyfile: f('missing.key') }, /lwm2m\.dtls\.keyfile=.*missing\.key.*ENOENT/);
    fails({ certfile: f('server.pem') }, /lwm2m\.dtls\.keyfile=.*required with dtls\.certfile/);
    fails({ certfile: f('server.pem'), keyfile: f('pkcs8.key') }, /lwm2m\.dtls\.keyfile=.*pkcs8\.key/);
    fails({ certfile: f('garbage.pem'), keyfile: f('server.key') }, /lwm2m\.dtls\.certfile=.*garbage\.pem/);
    fails({ keyfile: f('p384.key') }, /lwm2m\.dtls\.keyfile=.*P-256/);
    fails({ keyfile: f('empty.pem') }, /lwm2m\.dtls\.keyfile=.*empty\.pem/);
    fails({ cacertfile: f('empty.pem') }, /lwm2m\.dtls\.cacertfile=.*no CERTIFICATE/);
    fails({ cacertfile: f('garbage.pem') }, /lwm2m\.dtls\.cacertfile=.*garbage\.pem/);
    fails({ cacertfile: f('server.pem') }, /lwm2m\.dtls\.cacertfile=.*larger than 64 bytes/, 64);
    fails({ cacertfile: dir }, /lwm2m\.dtls\.cacertfile=.*cannot read \(EISDIR\)/);
  });

  it('config: dtls.certfile/keyfile/cacertfile are dtls keys only; certfile needs keyfile', () => {
    const c = parseConfig({ dtls: { certfile: '/a.pem', keyfile: '/a.key', cacertfile: '/ca.pem' } });
    assert.deepEqual([c.dtls.certfile, c.dtls.keyfile, c.dtls.cacertfile], ['/a.pem', '/a.key', '/ca.pem']);
    assert.equal(parseConfig({}).dtls.keyfile, '');
    assert.throws(() => parseConfig({ udp: { certfile: '/a.pem' } }), /lwm2m\.udp\.certfile/);
    assert.throws(() => parseConfig({ dtls: { certfile: '/a.pem' } }), /lwm2m\.dtls\.keyfile/);
    assert.throws(() => parseConfig({ dtls: { keyfile: 5 } }), /lwm2m\.dtls\.keyfile=5: a file path/);
  });
});
