/**
 * Issue #4 end to end: a hub child process configured with lwm2m.dtls.certfile/keyfile/
 * cacertfile (openssl-made CA, server and client certificates), libcoap clients over DTLS
 * with a client certificate (CN = endpoint) and with a raw public key (RFC 7250), and
 * mosquitto_sub watching up/register.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiFetch, background, HOST, type HubProcess, portEnv, requireTool, run, runHubExpectingExit, spawnHub, tempDir } from './helpers';

const LINKS = '</1/0>,</3/0>';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A P-256 CA, a server certificate (SAN 127.0.0.1) and client certificates with the given CNs, all signed by the CA. */
function makePki(dir: string, clientCns: string[]): void {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-days', '30', '-subj', '/CN=m2mhub-test-ca', '-out', 'ca.pem']);
  const leaf = (name: string, cn: string, ext: string) => {
    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  };
  leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n');
  for (const [i, cn] of clientCns.entries()) leaf(`client${i}`, cn, 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n');
  // A raw-public-key device: a bare P-256 key, and one never registered.
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'rpk.key']);
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'rpk-unknown.key']);
}

function spkiBase64(keyFile: string): string {
  return createPublicKey(createPrivateKey(readFileSync(keyFile))).export({ type: 'spki', format: 'der' }).toString('base64');
}

describe('hub: LwM2M over DTLS with certificates and raw public keys (issue #4)', () => {
  let hub: HubProcess;
  let dir: string;
  let api: string;
  let dtlsPort: number;
  before(async () => {
    for (const t of ['openssl', 'coap-client-openssl', 'coap-client-gnutls', 'mosquitto_sub']) requireTool(t);
    dir = tempDir('m2mhub-pki-');
    makePki(dir, ['dev-x509', 'dev-nocred']);
    hub = await spawnHub({
      dataDir: join(dir, 'data'),
      env: {
        ...(await portEnv()),
        M2MHUB_LWM2M__DTLS__CERTFILE: join(dir, 'server.pem'),
        M2MHUB_LWM2M__DTLS__KEYFILE: join(dir, 'server.key'),
        M2MHUB_LWM2M__DTLS__CACERTFILE: join(dir, 'ca.pem'),
      },
    });
    api = `http://${HOST}:${hub.ports['api:http']}/api/v5/gateways/lwm2m`;
    dtlsPort = hub.ports['lwm2m:dtls']!;
    assert.ok(dtlsPort > 0, `lwm2m:dtls in ${JSON.stringify(hub.ports)}`);
  });
  after(async () => {
    await hub?.kill('SIGTERM');
  });

  const putCredential = async (ep: string, body: unknown) => {
    const r = await apiFetch(`${api}/credentials/${ep}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(r.status, 200, await r.text());
  };
  const register = (tool: string, ep: string, auth: string[]) =>
    run(tool, ['-m', 'post', '-t', '40', '-e', LINKS, '-B', '5', ...auth, `coaps://${HOST}:${dtlsPort}/rd?ep=${ep}&lt=60`], 15_000);
  const registered = async (ep: string) => (await apiFetch(`${api}/clients/${ep}`)).status === 200;

  it('RFC 5246 §7.4.6: a client certificate chained to cacertfile registers as its CN when {"x509":{}} is set; up/register shows it', async () => {
    await putCredential('dev-x509', { x509: {} });
    const sub = background('mosquitto_sub', ['-h', HOST, '-p', String(hub.ports['mqtt:tcp']), '-t', 'up/register', '-v']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = await register('coap-client-openssl', 'dev-x509', ['-c', join(dir, 'client0.pem'), '-j', join(dir, 'client0.key'), '-R', join(dir, 'ca.pem')]);
      const lines = await sub.waitLines(1);
      const [topic, json] = [lines[0]!.slice(0, lines[0]!.indexOf(' ')), JSON.parse(lines[0]!.slice(lines[0]!.indexOf(' ') + 1))];
      assert.equal(topic, 'up/register', `${r.stdout} ${r.stderr}`);
      assert.equal(json.ep, 'dev-x509');
      assert.deepEqual(json.data.objectList, ['/1/0', '/3/0']);
      assert.ok(await registered('dev-x509'));
    } finally {
      sub.stop();
    }
  });

  it('DESIGN.md §6: the same certificate registering as another endpoint is refused 4.03', async () => {
    await putCredential('someone-else', { x509: {} });
    const r = await register('coap-client-openssl', 'someone-else', ['-c', join(dir, 'client0.pem'), '-j', join(dir, 'client0.key'), '-R', join(dir, 'ca.pem')]);
    assert.match(`${r.stdout}${r.stderr}`, /4\.03/);
    assert.equal(await registered('someone-else'), false);
  });

  it('Leshan rule: a certificate whose CN has no x509 credential is refused 4.03', async () => {
    const r = await register('coap-client-openssl', 'dev-nocred', ['-c', join(dir, 'client1.pem'), '-j', join(dir, 'client1.key'), '-R', join(dir, 'ca.pem')]);
    assert.match(`${r.stdout}${r.stderr}`, /4\.03/);
    assert.equal(await registered('dev-nocred'), false);
    // A PSK credential for that endpoint does not let its certificate in either.
    await putCredential('dev-nocred', { psk: { identity: 'dev-nocred-id', key: '00112233445566778899aabbccddeeff' } });
    const r2 = await register('coap-client-openssl', 'dev-nocred', ['-c', join(dir, 'client1.pem'), '-j', join(dir, 'client1.key'), '-R', join(dir, 'ca.pem')]);
    assert.match(`${r2.stdout}${r2.stderr}`, /4\.03/);
    assert.equal(await registered('dev-nocred'), false);
  });

  it('RFC 7250: a raw public key registered with {"rpk":{...}} registers; an unknown raw key is refused', async () => {
    await putCredential('dev-rpk', { rpk: { publicKey: spkiBase64(join(dir, 'rpk.key')) } });
    const ok = await register('coap-client-gnutls', 'dev-rpk', ['-M', join(dir, 'rpk.key'), '-n']);
    assert.ok(await registered('dev-rpk'), `${ok.stdout} ${ok.stderr}`);
    await register('coap-client-gnutls', 'dev-rpk-unknown', ['-M', join(dir, 'rpk-unknown.key'), '-n']);
    assert.equal(await registered('dev-rpk-unknown'), false);
  });

  it('a missing cacertfile stops start-up with one line naming the key', async () => {
    const r = await runHubExpectingExit([], {
      ...(await portEnv()),
      M2MHUB_DATA_DIR: join(dir, 'data2'),
      M2MHUB_LWM2M__DTLS__KEYFILE: join(dir, 'server.key'),
      M2MHUB_LWM2M__DTLS__CACERTFILE: join(dir, 'nope.pem'),
    });
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /lwm2m\.dtls\.cacertfile=.*nope\.pem.*ENOENT/);
  });

  it('a key that does not belong to certfile stops start-up naming lwm2m.dtls.keyfile', async () => {
    const r = await runHubExpectingExit([], {
      ...(await portEnv()),
      M2MHUB_DATA_DIR: join(dir, 'data3'),
      M2MHUB_LWM2M__DTLS__CERTFILE: join(dir, 'server.pem'),
      M2MHUB_LWM2M__DTLS__KEYFILE: join(dir, 'rpk.key'),
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^m2mhub: .*lwm2m\.dtls\.keyfile=.*rpk\.key/);
  });
});
