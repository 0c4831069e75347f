import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDtlsTransport, memoryPskStore } from '@m2mhub/dtls';
import { createLwm2mServer, createServerEndpoint } from '@m2mhub/lwm2m';
import { DtlsClientTransport, SimulatedDevice, basicProfile, startDevice } from '../src/index';

const KEY = new Uint8Array([0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x31]);

describe('LwM2M over DTLS 1.2 PSK (127.0.0.1)', () => {
  it('RFC 4279 / DESIGN.md §6: a PSK device registers with its identity recorded and is read; an identity bound to another endpoint gets 4.03', async () => {
    const server = createLwm2mServer();
    const ep = createServerEndpoint(
      server,
      { transport: createDtlsTransport({ pskStore: memoryPskStore({ 'psk-dev-1': { key: KEY, endpoint: 'secure-1' } }) }) },
      'dtls',
    );
    await ep.start();
    const dev = new SimulatedDevice({ ...basicProfile('secure-1', '1.1'), server: ep.address() });
    const dep = await startDevice(dev, { transport: new DtlsClientTransport({ port: ep.address().port, psk: { identity: 'psk-dev-1', key: KEY } }) });
    const impostor = new SimulatedDevice({ ...basicProfile('someone-else', '1.1'), server: ep.address() });
    const iep = await startDevice(impostor, { transport: new DtlsClientTransport({ port: ep.address().port, psk: { identity: 'psk-dev-1', key: KEY } }) });
    try {
      assert.equal((await dev.register()).code, '2.01');
      const reg = await server.getRegistration('secure-1');
      assert.equal(reg?.transport, 'dtls');
      assert.equal(reg?.listener, 'dtls');
      assert.deepEqual(reg?.identity, { kind: 'psk', id: 'psk-dev-1', endpoint: 'secure-1' });
      const r = await server.read('secure-1', '/3303/0/5700');
      assert.equal(r.content?.[0]?.value, 21.5);
      assert.equal((await impostor.register()).code, '4.03');
      assert.equal(await server.getRegistration('someone-else'), undefined);
    } finally {
      await dep.close();
      await iep.close();
      await ep.close();
      await server.close();
    }
  });
});
