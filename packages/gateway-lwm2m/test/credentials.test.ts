import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMemoryStore } from '@m2mhub/store';
import { CredentialStore, SecretBox } from '../src/index';

async function setup() {
  const store = createMemoryStore();
  await store.open();
  const dir = mkdtempSync(join(tmpdir(), 'm2mhub-cred-'));
  const box = SecretBox.fromFile(join(dir, 'sub', 'secret.key'));
  return { kv: store.kv('creds'), creds: new CredentialStore(store.kv('creds'), box), dir };
}

describe('device credentials (DESIGN.md §4, §6)', () => {
  it('PSK keys are sealed at rest (AES-256-GCM, secret.key 0600), bound to their endpoint, never shown', async () => {
    const { kv, creds, dir } = await setup();
    const key = 'aabbccddeeff00112233445566778899';
    await creds.put('ep1', { psk: { identity: 'id1', key } });
    const raw = JSON.stringify(await kv.list());
    assert.ok(!raw.includes(key), 'no plaintext key in the store');
    assert.ok(!raw.includes(Buffer.from(key, 'hex').toString('base64')));
    assert.equal(statSync(join(dir, 'sub', 'secret.key')).mode & 0o777, 0o600);
    const found = await creds.lookupPsk('id1');
    assert.equal(found?.endpoint, 'ep1');
    assert.equal(Buffer.from(found!.key).toString('hex'), key);
    assert.deepEqual(await creds.get('ep1'), { endpoint: 'ep1', psk: { identity: 'id1' } });
    // the same key file opens it again; another key does not
    const again = new CredentialStore(kv, SecretBox.fromFile(join(dir, 'sub', 'secret.key')));
    assert.ok(await again.lookupPsk('id1'));
    const other = new CredentialStore(kv, SecretBox.fromKey(new Uint8Array(32)));
    await assert.rejects(other.lookupPsk('id1'), /does not authenticate/);
    assert.equal(readFileSync(join(dir, 'sub', 'secret.key'), 'utf8').trim().length, 64);
    // an identity belongs to one endpoint; replacing a credential frees the old identity
    await assert.rejects(creds.put('ep2', { psk: { identity: 'id1', key } }), /already bound/);
    await creds.put('ep1', { psk: { identity: 'id1b', key } });
    assert.equal(await creds.lookupPsk('id1'), undefined);
    await creds.put('ep2', { psk: { identity: 'id1', key } });
    assert.equal((await creds.lookupPsk('id1'))?.endpoint, 'ep2');
  });

  it('RPK by SPKI fingerprint, X.509 marker, and bad input refused with a clear error', async () => {
    const { creds } = await setup();
    const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    const v = await creds.put('ep-rpk', { rpk: { publicKey: spki.toString('base64') } });
    const fp = createHash('sha256').update(spki).digest('hex');
    assert.deepEqual(v, { endpoint: 'ep-rpk', rpk: { publicKey: spki.toString('base64'), fingerprint: fp } });
    assert.deepEqual(await creds.lookupRpk(fp), { endpoint: 'ep-rpk' });
    assert.equal(await creds.lookupRpk('nothex'), undefined);
    assert.deepEqual(await creds.put('ep-x', { x509: {} }), { endpoint: 'ep-x', x509: {} });
    assert.deepEqual((await creds.list()).map((c) => c.endpoint), ['ep-rpk', 'ep-x']);
    for (const bad of [
      null,
      {},
      { psk: { identity: '', key: 'aa' } },
      { psk: { identity: 'x'.repeat(200), key: 'aa' } },
      { psk: { identity: 'i', key: 'abc' } },
      { psk: { identity: 'i', key: 'aa'.repeat(65) } },
      { rpk: { publicKey: 'AAAA' } },
      { psk: { identity: 'i', key: 'aa' }, x509: {} },
    ]) {
      await assert.rejects(creds.put('ep-bad', bad), (e: Error & { code?: string }) => e.code === 'M2M_LWGW_BAD_CREDENTIAL', JSON.stringify(bad));
    }
    assert.equal(await creds.delete('ep-x'), true);
    assert.equal(await creds.delete('ep-x'), false);
  });
});
