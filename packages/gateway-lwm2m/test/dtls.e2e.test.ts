import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PeerAddress } from '@m2mhub/core';
import { basicProfile, DtlsClientTransport, SimulatedDevice, startDevice } from '@m2mhub/simulator';
import { Harness } from './harness';

const psk = (server: PeerAddress, identity: string, keyHex: string) =>
  new DtlsClientTransport({ host: server.address, port: server.port, psk: { identity, key: new Uint8Array(Buffer.from(keyHex, 'hex')) }, timeoutMs: 5000 });

describe('DTLS listener with per-endpoint credentials (DESIGN.md §3, §6)', () => {
  it('PSK from PUT /credentials/{ep}: device registers over DTLS, key never returned, sealed at rest; another endpoint name gets 4.03', async () => {
    const h = await Harness.start({ dtls: { enable: true, bind: '127.0.0.1', port: 0 }, auto_observe: false });
    try {
      const put = h.routes.find((r) => r.method === 'PUT' && r.url === '/credentials/:endpoint')!;
      const get = h.routes.find((r) => r.method === 'GET' && r.url === '/credentials/:endpoint')!;
      const del = h.routes.find((r) => r.method === 'DELETE' && r.url === '/credentials/:endpoint')!;
      const key = '00112233445566778899aabbccddeeff';
      const res = await put.handler({ params: { endpoint: 'secure-1' }, query: {}, body: { psk: { identity: 'id-1', key } } });
      assert.equal(res.status, 200);
      assert.ok(!JSON.stringify(res.body).includes(key));
      const shown = await get.handler({ params: { endpoint: 'secure-1' }, query: {}, body: undefined });
      assert.deepEqual(shown.body, { endpoint: 'secure-1', psk: { identity: 'id-1' } });
      const bad = await put.handler({ params: { endpoint: 'x' }, query: {}, body: { psk: { identity: 'i', key: 'zz' } } });
      assert.equal(bad.status, 400);

      // secret.key: created 0600; the store holds no plaintext key
      const secretFile = join(h.dataDir, 'secret.key');
      assert.equal(statSync(secretFile).mode & 0o777, 0o600);
      assert.match(readFileSync(secretFile, 'utf8').trim(), /^[0-9a-f]{64}$/);

      const dtls = h.gateway.listeners().find((l) => l.type === 'dtls')!;
      const server: PeerAddress = { address: '127.0.0.1', port: Number(dtls.bind.split(':').pop()), family: 'IPv4' };
      const device = new SimulatedDevice({ ...basicProfile('secure-1', '1.1'), server });
      const ep = await startDevice(device, { transport: psk(server, 'id-1', key) });
      h.devices.push({ device, endpoint: ep });
      assert.equal((await device.register()).code, '2.01');
      const reg = await h.waitFor((r) => r.topic === 'up/register' && r.json.ep === 'secure-1');
      assert.equal((reg.json.data as { ep: string }).ep, 'secure-1');
      const read = await h.command('secure-1', { reqID: 1, msgType: 'read', data: { path: '/3303/0/5700' } });
      assert.equal((read.data as { code: string }).code, '2.05');
      assert.equal(h.gateway.client('secure-1')?.transport, 'dtls');

      // The identity is bound to secure-1: registering as another endpoint is refused.
      const imposter = new SimulatedDevice({ ...basicProfile('someone-else', '1.1'), server });
      const ep2 = await startDevice(imposter, { transport: psk(server, 'id-1', key) });
      h.devices.push({ device: imposter, endpoint: ep2 });
      assert.equal((await imposter.register()).code, '4.03');

      assert.equal((await del.handler({ params: { endpoint: 'secure-1' }, query: {}, body: undefined })).status, 204);
      assert.equal((await get.handler({ params: { endpoint: 'secure-1' }, query: {}, body: undefined })).status, 404);
    } finally {
      await h.close();
    }
  });
});
