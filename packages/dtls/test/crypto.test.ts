import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import { nobleCcm, nodeCcm } from '../src/crypto/aes-ccm';
import { streamCcm } from '../src/crypto/aes-ccm-stream';
import { nobleGcm, nodeGcm } from '../src/crypto/aes-gcm';
import { keyBlock, masterSecret, pskPremaster } from '../src/crypto/keys';
import { prf } from '../src/crypto/prf';
import { suiteById } from '../src/crypto/suites';
import { createProtection } from '../src/record/protection';

const backends = { noble: nobleCcm, node: nodeCcm, 'node-stream': streamCcm };

// RFC 3610 §8, packet vectors #1 and #2 (M = 8, L = 2, 8-byte header as AAD).
const rfc3610 = [
  {
    name: 'Packet Vector #1',
    nonce: '00000003020100A0A1A2A3A4A5',
    aad: '0001020304050607',
    pt: '08090A0B0C0D0E0F101112131415161718191A1B1C1D1E',
    out: '588C979A61C663D2F066D0C2C0F989806D5F6B61DAC38417E8D12CFDF926E0',
  },
  {
    name: 'Packet Vector #2',
    nonce: '00000004030201A0A1A2A3A4A5',
    aad: '0001020304050607',
    pt: '08090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F',
    out: '72C91A36E135F8CF291CA894085C87E3CC15C439C9E43A3BA091D56E10400916',
  },
];
const key3610 = fromHex('C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF');

describe('AES-CCM', () => {
  for (const [bname, make] of Object.entries(backends)) {
    for (const v of rfc3610) {
      it(`RFC 3610 §8 ${v.name} (${bname})`, () => {
        const ccm = make(key3610, 8);
        const sealed = ccm.seal(fromHex(v.nonce), fromHex(v.aad), fromHex(v.pt));
        assert.equal(toHex(sealed), v.out.toLowerCase());
        assert.equal(toHex(ccm.open(fromHex(v.nonce), fromHex(v.aad), sealed) as Uint8Array), v.pt.toLowerCase());
      });
    }
    it(`RFC 3610 §2.5: a flipped bit fails authentication (${bname})`, () => {
      const ccm = make(key3610, 8);
      const v = rfc3610[0]!;
      const sealed = ccm.seal(fromHex(v.nonce), fromHex(v.aad), fromHex(v.pt));
      for (const i of [0, 10, sealed.length - 1]) {
        const bad = sealed.slice();
        bad[i]! ^= 1;
        assert.equal(ccm.open(fromHex(v.nonce), fromHex(v.aad), bad), undefined);
      }
      assert.equal(ccm.open(fromHex(v.nonce), fromHex('0001020304050608'), sealed), undefined);
    });
  }

  it('RFC 6655 §3: the TLS nonce (salt 4 + explicit 8, L = 3), CCM_8 and CCM (16-byte tag): noble agrees with OpenSSL', () => {
    const rnd = new SeededRandom(7);
    for (let n = 0; n < 200; n++) {
      const key = rnd.bytes(16);
      const nonce = rnd.bytes(12);
      const aad = rnd.bytes(13);
      const pt = rnd.bytes(rnd.int(300));
      for (const tag of [8, 16]) {
        const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: tag });
        c.setAAD(aad, { plaintextLength: pt.length });
        const ref = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
        assert.equal(toHex(nobleCcm(key, tag).seal(nonce, aad, pt)), ref.toString('hex'));
        assert.equal(toHex(nodeCcm(key, tag).seal(nonce, aad, pt)), ref.toString('hex'));
        assert.equal(toHex(streamCcm(key, tag).seal(nonce, aad, pt)), ref.toString('hex'));
        assert.equal(toHex(nobleCcm(key, tag).open(nonce, aad, new Uint8Array(ref)) as Uint8Array), toHex(pt));
      }
    }
  });

  it('RFC 3610 §2.2-2.3: persistent contexts (node-stream) match node aes-128-ccm over a long mixed run of one key', () => {
    // One StreamCcm per key lives for the whole epoch: its CBC context chains from record to
    // record, so seals, opens, forged opens, empty AAD and odd lengths interleave on one object.
    const rnd = new SeededRandom(11);
    for (const tag of [8, 16]) {
      const key = rnd.bytes(16);
      const s = streamCcm(key, tag);
      for (let n = 0; n < 400; n++) {
        const nonce = rnd.bytes(7 + rnd.int(7));
        const aad = rnd.bytes(rnd.int(3) === 0 ? 0 : rnd.int(40));
        const pt = rnd.bytes(1 + rnd.int(n % 50 === 0 ? 1500 : 200));
        const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: tag });
        c.setAAD(aad, { plaintextLength: pt.length });
        const ref = new Uint8Array(Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
        assert.equal(toHex(s.seal(nonce, aad, pt)), toHex(ref), `seal #${n}`);
        if (n % 3 === 0) {
          const bad = ref.slice();
          bad[rnd.int(bad.length)]! ^= 1 << rnd.int(8);
          assert.equal(s.open(nonce, aad, bad), undefined, `forged #${n}`);
        }
        assert.equal(toHex(s.open(nonce, aad, ref) as Uint8Array), toHex(pt), `open #${n}`);
      }
    }
  });

  it('RFC 3610 §2: node-stream handles an empty message and AES-256 keys like noble', () => {
    const rnd = new SeededRandom(12);
    for (const keyLen of [16, 32]) {
      const key = rnd.bytes(keyLen);
      const s = streamCcm(key, 8);
      const r = nobleCcm(key, 8);
      for (const len of [0, 16, 33]) {
        const nonce = rnd.bytes(12);
        const aad = rnd.bytes(13);
        const pt = rnd.bytes(len);
        const sealed = s.seal(nonce, aad, pt);
        assert.equal(toHex(sealed), toHex(r.seal(nonce, aad, pt)));
        assert.equal(toHex(s.open(nonce, aad, sealed) as Uint8Array), toHex(pt));
      }
    }
    assert.equal(s8().open(new Uint8Array(12), new Uint8Array(13), new Uint8Array(7)), undefined);
    // RFC 3610 §2: with a 13-byte nonce (L = 2) a message is shorter than 2^16 bytes.
    const short = streamCcm(new Uint8Array(16), 8);
    assert.throws(() => short.seal(new Uint8Array(13), new Uint8Array(0), new Uint8Array(0x10000)), /too long/);
    assert.equal(short.open(new Uint8Array(13), new Uint8Array(0), new Uint8Array(0x10008)), undefined);
    assert.throws(() => streamCcm(new Uint8Array(15), 8), /key/);
    assert.throws(() => streamCcm(new Uint8Array(16), 5), /tag/);
    function s8() {
      return streamCcm(new Uint8Array(16), 8);
    }
  });

  it('node-stream: sealed records and opened plaintexts are plain Uint8Arrays whose slice() copies', () => {
    // Regression: records built in node's Buffer pool were returned as Buffers, whose slice() is a
    // view; a caller's "copy" of a datagram then corrupted the original (handshake test, §4.1.2.7).
    const s = streamCcm(new Uint8Array(16), 8);
    const nonce = new Uint8Array(12);
    const sealed = s.seal(nonce, new Uint8Array(13), new Uint8Array(20));
    assert.equal(Buffer.isBuffer(sealed), false);
    const copy = sealed.slice();
    copy[0]! ^= 1;
    assert.notEqual(copy[0], sealed[0]);
    const opened = s.open(nonce, new Uint8Array(13), sealed);
    assert.equal(Buffer.isBuffer(opened), false);
  });

  it('node-stream: release() frees the contexts and the next record rebuilds them (idle sessions)', () => {
    const rnd = new SeededRandom(13);
    const key = rnd.bytes(16);
    const s = streamCcm(key, 8);
    const ref = nodeCcm(key, 8);
    for (let n = 0; n < 20; n++) {
      // Release between records, after a seal and after an open: the CBC chain restarts from zero.
      if (n % 3 === 0) s.release();
      const nonce = rnd.bytes(12);
      const aad = rnd.bytes(13);
      const pt = rnd.bytes(1 + rnd.int(100));
      const sealed = s.seal(nonce, aad, pt);
      assert.equal(toHex(sealed), toHex(ref.seal(nonce, aad, pt)));
      if (n % 4 === 1) s.release();
      assert.equal(toHex(s.open(nonce, aad, sealed) as Uint8Array), toHex(pt));
    }
  });

  it('AES-GCM: noble and node backends agree and reject a forged tag', () => {
    const rnd = new SeededRandom(9);
    for (let n = 0; n < 50; n++) {
      const key = rnd.bytes(16);
      const nonce = rnd.bytes(12);
      const aad = rnd.bytes(13);
      const pt = rnd.bytes(rnd.int(200));
      const a = nodeGcm(key).seal(nonce, aad, pt);
      assert.equal(toHex(nobleGcm(key).seal(nonce, aad, pt)), toHex(a));
      a[a.length - 1]! ^= 0x80;
      assert.equal(nodeGcm(key).open(nonce, aad, a), undefined);
      assert.equal(nobleGcm(key).open(nonce, aad, a), undefined);
    }
  });
});

describe('TLS 1.2 PRF', () => {
  // The P_SHA256 test vector published for TLS 1.2 implementers (secret, "test label", seed -> 100 bytes).
  it('RFC 5246 §5: PRF with P_SHA256 produces the published 100-byte output', () => {
    const out = prf(fromHex('9bbe436ba940f017b17652849a71db35'), 'test label', fromHex('a0ba9f936cda311827a6f796ffd5198c'), 100);
    assert.equal(
      toHex(out),
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });

  it('RFC 4279 §2: the PSK premaster secret is N, N zero bytes, N, psk', () => {
    assert.equal(toHex(pskPremaster(fromHex('aabbcc'))), '0003000000' + '0003aabbcc');
  });

  it('RFC 5246 §6.3: the key block is sliced MAC keys, then keys, then IVs', () => {
    const suite = suiteById(0xc0a8)!;
    const master = masterSecret(new Uint8Array(20), new Uint8Array(32), new Uint8Array(32));
    const kb = keyBlock(master, suite, new Uint8Array(32), new Uint8Array(32));
    assert.equal(kb.clientMacKey.length, 0);
    assert.equal(kb.clientKey.length, 16);
    assert.equal(kb.serverIv.length, 4);
  });
});

describe('record protection', () => {
  for (const id of [0xc0a8, 0x00a8, 0x00ae]) {
    for (const backend of ['node-stream', 'node', 'noble'] as const) {
      it(`RFC 5246 §6.2.3: suite 0x${id.toString(16)} (${backend}) seals and opens, with and without a CID (RFC 9146 §5)`, () => {
        const suite = suiteById(id)!;
        const rnd = new SeededRandom(id);
        const keys = { macKey: rnd.bytes(suite.macKeyLength), key: rnd.bytes(16), iv: rnd.bytes(suite.fixedIvLength) };
        const p = createProtection(suite, keys, backend, rnd);
        const other = createProtection(suite, keys, backend === 'noble' ? 'node-stream' : 'noble', rnd);
        for (const cid of [undefined, fromHex('01020304')]) {
          for (const len of [0, 1, 15, 16, 17, 100, 1000]) {
            const pt = rnd.bytes(len);
            const frag = p.seal(23, 0xfefd, 1, 5, cid, pt);
            assert.ok(frag.length <= len + p.overhead);
            assert.equal(toHex(other.open(23, 0xfefd, 1, 5, cid, frag) as Uint8Array), toHex(pt));
            // Another sequence number or type is other additional data: authentication fails.
            assert.equal(p.open(23, 0xfefd, 1, 6, cid, frag), undefined);
            // Without a CID the type is in the AAD; with one it travels inside (RFC 9146 §4).
            if (!cid) assert.equal(p.open(22, 0xfefd, 1, 5, cid, frag), undefined);
          }
        }
      });
    }
  }
});
