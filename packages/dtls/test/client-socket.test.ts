import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { connectDtls } from '../src/client';

const udpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('connectDtls releases its socket', () => {
  // Regression: a failed bind and a handshake timeout both left the client's UDP socket open
  // (until handshakeTimeoutMs, or forever after a bind error): `pnpm bench dtls` ran out of
  // file descriptors (EMFILE) after many EADDRINUSE retries and timeouts.
  it('when the local port is taken (EADDRINUSE)', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    const port = taken.address().port;
    await settle();
    const before = udpHandles();
    for (let i = 0; i < 5; i++) {
      await assert.rejects(connectDtls({ port: 9, localPort: port, psk: { identity: 'x', key: new Uint8Array(16) } }), { code: 'EADDRINUSE' });
    }
    await settle();
    assert.equal(udpHandles(), before);
    taken.close();
  });

  it('RFC 6347 §4.2.4: when nobody answers within timeoutMs', async () => {
    // A bound socket that never answers stands in for a silent server.
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    await settle();
    const before = udpHandles();
    await assert.rejects(
      connectDtls({ port: silent.address().port, timeoutMs: 200, psk: { identity: 'x', key: new Uint8Array(16) } }),
      { code: 'M2M_DTLS_HANDSHAKE_TIMEOUT' },
    );
    await settle();
    assert.equal(udpHandles(), before);
    silent.close();
  });
});
