import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UdpTransport } from '@m2mhub/coap';
import { type BootstrapConfig, BootstrapServer, type BootstrapServerEvents, bootstrapConfigFromJson, bootstrapConfigToJson, createBootstrapEndpoint } from '@m2mhub/lwm2m';
import { EXEC, ObjectTree, SimulatedDevice, startDevice } from '../src/index';

const udp = () => new UdpTransport({ address: '127.0.0.1', port: 0 });

function ecKeys() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })), pkcs8: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' })) };
}

/** A self-signed P-256 certificate and its key, both DER, made by the openssl binary. */
function opensslCert(cn: string): { cert: Uint8Array; key: Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), 'm2m-bs-'));
  try {
    const crt = join(dir, 'c.der');
    const key = join(dir, 'k.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-days', '1', '-outform', 'DER', '-out', crt, '-keyout', key], { stdio: 'pipe' });
    const der = createPrivateKey(readFileSync(key)).export({ format: 'der', type: 'pkcs8' });
    return { cert: new Uint8Array(readFileSync(crt)), key: new Uint8Array(der) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one bootstrap of a fresh simulated device against `cfg` over UDP; returns the device tree and the server events. */
async function bootstrapWith(cfg: BootstrapConfig) {
  const bs = new BootstrapServer();
  // The config goes through its stored JSON form (base64 key material) as a store would keep it.
  await bs.configs.put(bootstrapConfigFromJson(JSON.parse(JSON.stringify(bootstrapConfigToJson(cfg)))));
  const bep = createBootstrapEndpoint(bs, { transport: udp() });
  await bep.start();
  const tree = ObjectTree.from({
    0: { 0: { 0: `coap://127.0.0.1:${bep.address().port}`, 1: true, 2: 3, 10: 0 } },
    1: { 0: { 0: 1, 1: 60, 7: 'U', 8: EXEC } },
    3: { 0: { 0: 'Acme', 9: 80 } },
  });
  const dev = new SimulatedDevice({ endpoint: cfg.endpoint, tree, server: bep.address(), lwm2mVersion: '1.1' });
  const dep = await startDevice(dev);
  const events: unknown[] = [];
  for (const n of ['bootstrapStarted', 'bootstrapStep', 'bootstrapFinished', 'bootstrapFailed'] as const) bs.on(n, (e) => events.push(e));
  const steps: BootstrapServerEvents['bootstrapStep'][] = [];
  bs.on('bootstrapStep', (s) => steps.push(s));
  const finished = new Promise<BootstrapServerEvents['bootstrapFinished']>((r) => bs.on('bootstrapFinished', r));
  try {
    await dev.bootstrap(bep.address());
    return { dev, steps, events, done: await finished };
  } finally {
    await dep.close();
    await bep.close();
  }
}

const hasBytes = (hay: unknown[], needle: Uint8Array) => {
  const text = JSON.stringify(hay, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  return text.includes(Buffer.from(needle).toString('hex')) || text.includes(Buffer.from(needle).toString('base64'));
};

describe('bootstrap of RPK / X.509 accounts and Bootstrap-Read over UDP 127.0.0.1', () => {
  it('LwM2M Core 1.1 E.1: an RPK account writes mode 1, the device SPKI, the server SPKI and the private key to /0/1; no event carries the key', async () => {
    const device = ecKeys();
    const server = ecKeys();
    const { dev, steps, events } = await bootstrapWith({
      endpoint: 'rpk-1',
      servers: [{ uri: 'coaps://127.0.0.1:5784', securityMode: 'rpk', publicKeyOrIdentity: device.spki, serverPublicKey: server.spki, secretKey: device.pkcs8, shortServerId: 5, lifetime: 90, binding: 'U' }],
    });
    assert.deepEqual(
      steps.map((s) => `${s.step} ${s.path} ${s.code}`),
      ['discover / 2.05', 'delete /0 2.02', 'delete /1 2.02', 'write /0/1 2.04', 'write /1/1 2.04', 'finish /bs 2.04'],
    );
    const sec = dev.tree.instance(0, 1)!;
    assert.equal(sec.get(2), 1);
    assert.deepEqual(sec.get(3), device.spki);
    assert.deepEqual(sec.get(4), server.spki);
    assert.deepEqual(sec.get(5), device.pkcs8);
    // The written bytes are usable keys, not a re-encoding.
    assert.equal(createPublicKey({ key: Buffer.from(sec.get(4) as Uint8Array), format: 'der', type: 'spki' }).asymmetricKeyType, 'ec');
    assert.equal(createPrivateKey({ key: Buffer.from(sec.get(5) as Uint8Array), format: 'der', type: 'pkcs8' }).asymmetricKeyType, 'ec');
    assert.equal(dev.serverAccount()?.pskIdentity, undefined, 'a DER key is not a PSK identity');
    assert.ok(!hasBytes(events, device.pkcs8));
  });

  it('LwM2M Core 1.1 E.1: an X.509 account writes mode 2, the device and server certificates (made by openssl) and the private key', async () => {
    assert.doesNotThrow(() => execFileSync('openssl', ['version'], { stdio: 'pipe' }), 'the openssl binary is required');
    const device = opensslCert('x509-1');
    const server = opensslCert('hub');
    const { dev, events } = await bootstrapWith({
      endpoint: 'x509-1',
      servers: [{ uri: 'coaps://127.0.0.1:5784', securityMode: 'x509', publicKeyOrIdentity: device.cert, serverPublicKey: server.cert, secretKey: device.key, shortServerId: 6, lifetime: 90, binding: 'U' }],
    });
    const sec = dev.tree.instance(0, 1)!;
    assert.equal(sec.get(2), 2);
    assert.equal(new X509Certificate(Buffer.from(sec.get(3) as Uint8Array)).subject, 'CN=x509-1');
    assert.equal(new X509Certificate(Buffer.from(sec.get(4) as Uint8Array)).subject, 'CN=hub');
    assert.deepEqual(sec.get(5), device.key);
    assert.ok(!hasBytes(events, device.key));
  });

  it('LwM2M Core 1.1 Bootstrap Interface: Bootstrap-Read of /1 runs after Discover and before Delete; its content is on the step and finished events', async () => {
    const { steps, done } = await bootstrapWith({
      endpoint: 'reader-1',
      reads: ['/1'],
      servers: [{ uri: 'coap://127.0.0.1:5783', securityMode: 'nosec', shortServerId: 9, lifetime: 90, binding: 'U' }],
    });
    assert.deepEqual(
      steps.slice(0, 3).map((s) => `${s.step} ${s.path} ${s.code}`),
      ['discover / 2.05', 'read /1 2.05', 'delete /0 2.02'],
    );
    const read = done.reads['/1']!;
    assert.equal(read.find((v) => v.path === '/1/0/1')?.value, 60);
    assert.equal(read.find((v) => v.path === '/1/0/7')?.value, 'U');
    assert.deepEqual(steps[1]!.content, read);
  });
});
