import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectDtls } from '../src/client';
import { createDtlsTransport, type DtlsTransport } from '../src/transport';
import { memoryPskStore } from '../src/stores';
import { freeUdpPort, requireBinary, run, sleep } from './helpers/peers';

const KEY_HEX = '0102030405060708090a0b0c0d0e0f10';
const KEY = Buffer.from(KEY_HEX, 'hex');
const enc = new TextEncoder();
const dec = new TextDecoder();

describe('interop: openssl s_client -dtls1_2 against our server', () => {
  let t: DtlsTransport;
  before(async () => {
    requireBinary('openssl');
    t = createDtlsTransport({ pskStore: memoryPskStore({ 'openssl-id': { key: KEY, endpoint: 'ossl' } }) });
    t.onDatagram((d) => t.send(enc.encode(`echo:${dec.decode(d.data)}:${d.identity?.id}`), d.peer));
    await t.start();
  });
  after(() => t.close());

  for (const cipher of ['PSK-AES128-CCM8', 'PSK-AES128-GCM-SHA256', 'PSK-AES128-CBC-SHA256']) {
    it(`RFC 4279 / RFC 6347: ${cipher} handshake, data both ways`, async () => {
      const port = t.address().port;
      const c = run('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`, '-psk', KEY_HEX, '-psk_identity', 'openssl-id', '-cipher', cipher, '-quiet']);
      try {
        await sleep(300);
        c.proc.stdin?.write(`ping-${cipher}\n`);
        await c.waitFor(new RegExp(`echo:ping-${cipher}\\n:openssl-id`));
      } finally {
        await c.kill();
      }
    });
  }

  it('RFC 6347 §4.1.2.7: openssl with a wrong key gets a fatal bad_record_mac alert and no session', async () => {
    const port = t.address().port;
    const sessions = t.server.sessionCount;
    const c = run('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`, '-psk', 'ffff', '-psk_identity', 'openssl-id', '-cipher', 'PSK-AES128-CCM8']);
    try {
      await c.waitFor(/alert bad record mac/, 10_000);
      assert.equal(t.server.sessionCount, sessions);
    } finally {
      await c.kill();
    }
  });
});

describe('interop: our client against openssl s_server -dtls1_2', () => {
  for (const [cipher, id] of [
    ['PSK-AES128-CCM8', 0xc0a8],
    ['PSK-AES128-GCM-SHA256', 0x00a8],
    ['PSK-AES128-CBC-SHA256', 0x00ae],
  ] as const) {
    it(`RFC 6347: ${cipher}: handshake, we send, the server sends`, async () => {
      requireBinary('openssl');
      const port = await freeUdpPort();
      const s = run('openssl', ['s_server', '-dtls1_2', '-accept', String(port), '-nocert', '-psk', KEY_HEX, '-cipher', cipher]);
      try {
        await s.waitFor(/ACCEPT/);
        const c = await connectDtls({ port, psk: { identity: 'client1', key: KEY }, cipherSuites: [id] });
        const got = new Promise<string>((r) => c.onData((d) => r(dec.decode(d))));
        c.send(enc.encode('from-m2mhub\n'));
        await s.waitFor(/from-m2mhub/);
        s.proc.stdin?.write('from-openssl\n');
        assert.equal(await got, 'from-openssl\n');
        c.close();
      } finally {
        await s.kill();
      }
    });
  }
});
