import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHex, toHex } from '@m2mhub/core';
import { decodeBlock, encodeBlock, szxOf } from '../src/block';
import { parseMessage, serializeMessage } from '../src/codec';
import { CoapErrors } from '../src/errors';
import { decodeUint, encodeUint } from '../src/options';
import { deriveParameters } from '../src/params';

test('RFC 7252 §3.1: option delta/length extensions (13, 269) round-trip', () => {
  const msg = {
    type: 'CON' as const,
    code: '0.01',
    messageId: 0xbeef,
    token: fromHex('0102030405060708'),
    options: [
      { number: 11, value: new Uint8Array(12) },
      { number: 11, value: new Uint8Array(13) },
      { number: 60, value: new Uint8Array(268) },
      { number: 2048, value: new Uint8Array(269) },
      { number: 2048, value: new Uint8Array(0) },
    ],
    payload: fromHex('ff00'),
  };
  const bytes = serializeMessage(msg);
  const back = parseMessage(bytes);
  assert.deepEqual(back.options.map((o) => [o.number, o.value.length]), msg.options.map((o) => [o.number, o.value.length]));
  assert.deepEqual(toHex(back.payload), 'ff00');
  assert.equal(back.messageId, 0xbeef);
});

test('RFC 7252 §3/§4.1: message format errors are rejected with M2M_COAP_FORMAT_ERROR', () => {
  const bad = [
    '40', // short header
    '4901000001020304050607080900', // TKL 9
    '40000001ff', // Empty with bytes
    '4201000101', // TKL 2, only 1 byte of token
    '400100010f', // option length 15
    '40010001f0', // option delta 15 not payload marker
    '40010001ff', // payload marker, no payload
    '40010001d1', // truncated extended delta
    '40010001b5616263', // option value past the end
    '80010001', // version 2
  ];
  for (const h of bad) assert.throws(() => parseMessage(fromHex(h)), (e) => CoapErrors.formatError.is(e), h);
  assert.throws(() => parseMessage(fromHex(`40010001${'10'.repeat(65)}`), { maxOptions: 64 }), (e) => CoapErrors.formatError.is(e));
});

test('RFC 7252 §3.2: uint encoding drops leading zeros', () => {
  assert.equal(encodeUint(0).length, 0);
  assert.deepEqual([...encodeUint(255)], [255]);
  assert.deepEqual([...encodeUint(256)], [1, 0]);
  assert.equal(decodeUint(encodeUint(0x12345678)), 0x12345678);
});

test('RFC 7959 §2.2: block option values', () => {
  assert.deepEqual(decodeBlock(encodeBlock({ num: 5, more: true, szx: 6 })), { num: 5, more: true, szx: 6 });
  assert.deepEqual(decodeBlock(new Uint8Array(0)), { num: 0, more: false, szx: 0 });
  assert.equal(decodeBlock(Uint8Array.of(0x07)), undefined, 'SZX 7 reserved');
  assert.equal(decodeBlock(Uint8Array.of(1, 2, 3, 4)), undefined);
  assert.equal(szxOf(1024), 6);
  assert.equal(szxOf(100), 2);
});

test('RFC 7252 §4.8: transmission parameters are per endpoint and validated', () => {
  const p = deriveParameters({ ackTimeoutMs: 1000, maxRetransmit: 2 });
  assert.equal(p.maxTransmitSpanMs, 1000 * 3 * 1.5);
  assert.equal(p.processingDelayMs, 1000);
  assert.throws(() => deriveParameters({ ackRandomFactor: 0.5 }));
});

test('why our own codec: coap-packet 1.1 accepts messages RFC 7252 §3 calls format errors; we reject them', async () => {
  const { default: coapPacket } = (await import('coap-packet')) as unknown as { default: { parse(b: Buffer): unknown } };
  for (const h of ['4901000001020304050607080900', '40010001ff', '4201000101', '40010001b5616263']) {
    assert.doesNotThrow(() => coapPacket.parse(Buffer.from(h, 'hex')), h);
    assert.throws(() => parseMessage(fromHex(h)), (e) => CoapErrors.formatError.is(e), h);
  }
});

test('every M2M_COAP_* error code is documented in the package README', async () => {
  const { readFileSync } = await import('node:fs');
  const { listErrors } = await import('@m2mhub/core');
  await import('../src/errors');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const codes = listErrors().filter((e) => e.code.startsWith('M2M_COAP_'));
  assert.ok(codes.length >= 13);
  for (const e of codes) assert.ok(readme.includes(`\`${e.code}\``), e.code);
});
