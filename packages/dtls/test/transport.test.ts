import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapEndpoint } from '@m2mhub/coap';
import type { Datagram } from '@m2mhub/core';
import { connectDtls } from '../src/client';
import { memoryPskStore } from '../src/stores';
import { createDtlsTransport } from '../src/transport';

const KEY = new TextEncoder().encode('transport-test-key');

describe('DTLS transport (DatagramTransport over UDP)', () => {
  it('RFC 9146 §6: after a NAT rebinding (new source port) the CID keeps the session and the peerKey', async () => {
    const t = createDtlsTransport({ pskStore: memoryPskStore({ dev: { key: KEY, endpoint: 'ep-dev' } }) });
    const seen: Datagram[] = [];
    t.onDatagram((d) => {
      seen.push(d);
      t.send(d.data, d.peer);
    });
    await t.start();
    const c = await connectDtls({ port: t.address().port, psk: { identity: 'dev', key: KEY }, cidLength: 4 });
    try {
      const next = () => new Promise<Uint8Array>((r) => c.onData(r));
      let got = next();
      c.send(new Uint8Array([1]));
      await got;
      const port1 = c.localPort;
      await c.rebind();
      assert.notEqual(c.localPort, port1);
      got = next();
      c.send(new Uint8Array([2]));
      assert.deepEqual([...(await got)], [2], 'the answer reached the new port');
      assert.equal(seen.length, 2);
      assert.match(seen[0]!.peerKey, /^cid:[0-9a-f]{12}$/);
      assert.equal(seen[1]!.peerKey, seen[0]!.peerKey, 'same peerKey across the rebinding');
      assert.equal(seen[1]!.peer.port, c.localPort);
      assert.deepEqual(seen[1]!.identity, { kind: 'psk', id: 'dev', endpoint: 'ep-dev' });
      assert.equal(t.server.sessionCount, 1);
    } finally {
      c.close();
      await t.close();
    }
  });

  it('a datagram handler that throws does not end the session (regression: it used to fail the session with internal_error)', async () => {
    const t = createDtlsTransport({ pskStore: memoryPskStore({ dev: KEY }) });
    let n = 0;
    t.onDatagram((d) => {
      n++;
      if (n === 1) throw new Error('consumer bug');
      t.send(d.data, d.peer);
    });
    await t.start();
    const c = await connectDtls({ port: t.address().port, psk: { identity: 'dev', key: KEY } });
    try {
      c.send(new Uint8Array([1]));
      const got = new Promise<Uint8Array>((r) => c.onData(r));
      await new Promise((r) => setTimeout(r, 100));
      c.send(new Uint8Array([2]));
      assert.deepEqual([...(await got)], [2]);
    } finally {
      c.close();
      await t.close();
    }
  });

  it('DESIGN.md §2: CoAP runs unchanged over the DTLS transport; send to an unknown peer is a typed error', async () => {
    const t = createDtlsTransport({ pskStore: memoryPskStore({ dev: KEY }) });
    const ep = new CoapEndpoint({ transport: t });
    ep.route('GET', '/x', () => ({ code: '2.05', payload: new TextEncoder().encode('ok') }));
    await ep.start();
    try {
      assert.equal(t.kind, 'dtls');
      assert.throws(() => t.send(new Uint8Array([1]), { address: '127.0.0.1', port: 9, family: 'IPv4' }), /M2M_CORE_CLOSED|no DTLS session/);
      const c = await connectDtls({ port: t.address().port, psk: { identity: 'dev', key: KEY } });
      const got = new Promise<Uint8Array>((r) => c.onData(r));
      // CON GET /x, message id 7, no token.
      c.send(new Uint8Array([0x40, 0x01, 0x00, 0x07, 0xb1, 0x78]));
      const res = await got;
      assert.equal(res[1], 0x45);
      assert.equal(new TextDecoder().decode(res.subarray(res.indexOf(0xff) + 1)), 'ok');
      c.close();
    } finally {
      await ep.close();
    }
  });
});
