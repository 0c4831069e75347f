/** The codec and link-format parser against captured traffic of real LwM2M clients (shared/fixtures/real-clients beside the repo). */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromHex, toHex } from '@m2mhub/core';
import type { CoapMessage } from '../src/api';
import { decodeBlock } from '../src/block';
import { parseMessage, serializeMessage } from '../src/codec';
import { parseLinkFormat } from '../src/link-format';
import { OptionNumber as O } from '../src/options';
import { decoded, fakeNet, flush } from './fake-net';
import { sharedDir } from '@m2mhub/core/testing';

const DIR = sharedDir('fixtures', 'real-clients');

interface FixtureRecord {
  frame: number;
  dir: string;
  type: string;
  code: string;
  mid: number;
  token: string;
  options: { number: number; valueHex: string; block?: { num: number; more: boolean; szx: number } }[];
  contentFormat: number | null;
  payloadHex: string;
  payloadText?: string;
  messageHex: string;
}

function load(file: string): FixtureRecord[] {
  return readFileSync(join(DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as FixtureRecord);
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.jsonl'));

test('RFC 7252 §3: every captured message parses to the recorded fields and serializes back to the same bytes', () => {
  assert.equal(files.length, 6);
  let n = 0;
  for (const f of files) {
    for (const r of load(f)) {
      const bytes = fromHex(r.messageHex);
      const m = parseMessage(bytes);
      const where = `${f} frame ${r.frame}`;
      assert.equal(m.type, r.type, where);
      assert.equal(m.code, r.code, where);
      assert.equal(m.messageId, r.mid, where);
      assert.equal(toHex(m.token), r.token, where);
      assert.deepEqual(
        m.options.map((o) => [o.number, toHex(o.value)]),
        r.options.map((o) => [o.number, o.valueHex]),
        where,
      );
      for (const o of r.options) {
        if (o.block) {
          const b = decodeBlock(fromHex(o.valueHex));
          assert.deepEqual(b, { num: o.block.num, more: o.block.more, szx: o.block.szx }, where);
        }
      }
      assert.equal(toHex(m.payload), r.payloadHex, where);
      assert.equal(toHex(serializeMessage(m)), r.messageHex, `${where} round trip`);
      n++;
    }
  }
  assert.equal(n, 65 + 88 + 18 + 12 + 42 + 76);
});

test('RFC 6690: link-format payloads of Register, Update and Discover parse (Block1 Register reassembled)', () => {
  let parsed = 0;
  for (const f of files) {
    const recs = load(f);
    let pendingBlock1 = '';
    for (const r of recs) {
      const text = Buffer.from(r.payloadHex, 'hex').toString('utf8');
      const b1 = r.options.find((o) => o.number === O.Block1 && r.code === '0.02');
      if (b1?.block) {
        pendingBlock1 += text;
        if (b1.block.more) continue;
      }
      const body = b1 ? pendingBlock1 : text;
      if (b1) pendingBlock1 = '';
      const linky = r.contentFormat === 40 || (r.code === '0.02' && body.startsWith('<'));
      if (!linky || body.length === 0) continue;
      const links = parseLinkFormat(body);
      assert.ok(links.length > 0, `${f} frame ${r.frame}`);
      for (const l of links) assert.match(l.uri, /^\/[0-9/]*$/);
      parsed++;
    }
  }
  assert.equal(parsed, 22);
  const wk = parseLinkFormat('</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>');
  assert.deepEqual(wk[0], { uri: '/', params: { rt: 'oma.lwm2m', ct: '110' } });
  assert.deepEqual(wk[1], { uri: '/1', params: { ver: '1.1' } });
  const anjay = parseLinkFormat('</3/0/6>;dim=1,</3/0/9>;gt=90;lt=10;st=5');
  assert.deepEqual(anjay[0]!.params, { dim: '1' });
  assert.deepEqual(anjay[1]!.params, { gt: '90', lt: '10', st: '5' });
});

test('RFC 7959 §2.5: the Wakaama client Register in two Block1 blocks gets 2.31 then 2.01 with Block1 (wakaama-client-blockwise.jsonl frames 1, 3)', async () => {
  const recs = load('wakaama-client-blockwise.jsonl');
  const net = fakeNet(41);
  const server = await net.endpoint();
  let registered: string | undefined;
  server.route('POST', '/rd', (req) => {
    registered = Buffer.from(req.payload).toString('utf8');
    return { code: '2.01', locationPath: ['rd', 'abc'] };
  });
  const dev = net.network.transport('10.1.1.1', 15830);
  await dev.start();
  const replies: CoapMessage[] = [];
  dev.onDatagram((d) => replies.push(decoded(d.data)));
  for (const frame of [1, 3]) {
    dev.send(fromHex(recs.find((r) => r.frame === frame)!.messageHex), server.address());
    net.scheduler.advance(5);
    await flush();
  }
  assert.equal(replies.length, 2);
  assert.equal(replies[0]!.code, '2.31');
  assert.deepEqual(decodeBlock(replies[0]!.options.find((o) => o.number === O.Block1)!.value), { num: 0, more: true, szx: 3 });
  assert.equal(replies[1]!.code, '2.01');
  assert.deepEqual(decodeBlock(replies[1]!.options.find((o) => o.number === O.Block1)!.value), { num: 1, more: false, szx: 3 });
  assert.ok(registered?.endsWith(',</31024/12>'));
  assert.equal(parseLinkFormat(registered!).length, 13);
});

test('RFC 7959 §2.4 quirks: our Block2 follow-ups repeat the first request options (Anjay), and we tolerate a follow-up adding Content-Format (Wakaama server)', async () => {
  const net = fakeNet(43);
  // Anjay-like device: answers 5.03 when a follow-up's options differ from the first request's (anjay-client-block2-stall.jsonl).
  const dev = net.network.transport();
  await dev.start();
  const body = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
  let firstOpts = '';
  dev.onDatagram((d) => {
    const m = decoded(d.data);
    const b2 = m.options.find((o) => o.number === O.Block2);
    const num = b2 ? decodeBlock(b2.value)!.num : 0;
    const key = JSON.stringify(m.options.filter((o) => o.number !== O.Block2).map((o) => [o.number, toHex(o.value)]));
    if (num === 0) firstOpts = key;
    const ok = key === firstOpts;
    const chunk = body.subarray(num * 1024, num * 1024 + 1024);
    const more = (num + 1) * 1024 < body.length;
    dev.send(
      serializeMessage({
        type: 'ACK',
        code: ok ? '2.05' : '5.03',
        messageId: m.messageId,
        token: m.token,
        options: ok ? [{ number: O.ContentFormat, value: Uint8Array.of(42) }, { number: O.Block2, value: Uint8Array.of((num << 4) | (more ? 8 : 0) | 6) }] : [],
        payload: ok ? chunk : new Uint8Array(0),
      }),
      d.peer,
    );
  });
  const client = await net.endpoint();
  const res = await net.drive(client.request(dev.address(), { method: 'GET', path: '/33605/1/5', accept: 42, query: ['x=1'] }));
  assert.equal(res.code, '2.05');
  assert.deepEqual(res.payload, body);

  // Our server: the follow-up carries an extra Content-Format: 0 (wakaama-client-blockwise.jsonl frame 7 style).
  const server = await net.endpoint({ limits: { blockSize: 128 } });
  let calls = 0;
  server.route('GET', '/3/0', () => {
    calls++;
    return { code: '2.05', contentFormat: 110, payload: body };
  });
  const raw = net.network.transport();
  await raw.start();
  const got: CoapMessage[] = [];
  raw.onDatagram((d) => got.push(decoded(d.data)));
  const path = [
    { number: O.UriPath, value: Uint8Array.of(0x33) },
    { number: O.UriPath, value: Uint8Array.of(0x30) },
  ];
  raw.send(serializeMessage({ type: 'CON', code: '0.01', messageId: 1, token: Uint8Array.of(1), options: [...path, { number: O.Accept, value: Uint8Array.of(110) }], payload: new Uint8Array(0) }), server.address());
  net.scheduler.advance(5);
  raw.send(
    serializeMessage({
      type: 'CON',
      code: '0.01',
      messageId: 2,
      token: Uint8Array.of(2),
      options: [...path, { number: O.ContentFormat, value: new Uint8Array(0) }, { number: O.Accept, value: Uint8Array.of(110) }, { number: O.Block2, value: Uint8Array.of(0x13) }],
      payload: new Uint8Array(0),
    }),
    server.address(),
  );
  net.scheduler.advance(5);
  await flush();
  assert.equal(got.length, 2);
  assert.equal(got[1]!.code, '2.05');
  assert.deepEqual(got[1]!.payload, body.subarray(128, 256));
  assert.equal(calls, 1, 'the follow-up is served from the kept body');
  assert.deepEqual(
    got[0]!.options.find((o) => o.number === O.ETag)!.value,
    got[1]!.options.find((o) => o.number === O.ETag)!.value,
  );
});
