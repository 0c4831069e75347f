import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoapErrors } from '../src/errors';
import { parseLinkFormat, serializeLinkFormat } from '../src/link-format';

test('RFC 6690 §2: parses links with quoted, unquoted and bare parameters', () => {
  const links = parseLinkFormat('</sensors/temp>;rt="temperature-c";if="sensor";ct=0;obs,</fw>;sz=1024');
  assert.deepEqual(links, [
    { uri: '/sensors/temp', params: { rt: 'temperature-c', if: 'sensor', ct: '0', obs: true } },
    { uri: '/fw', params: { sz: '1024' } },
  ]);
  assert.deepEqual(parseLinkFormat(''), []);
  assert.deepEqual(parseLinkFormat('</a>;title="a \\"q\\" b;c,d"'), [{ uri: '/a', params: { title: 'a "q" b;c,d' } }]);
});

test('RFC 6690 §2: tolerates quirks of real clients (spaces, ver=1.1, bare names, first occurrence wins)', () => {
  const links = parseLinkFormat(' </1> ; ver=1.1 , </3/0/9>;pmin;pmax ,</3303/0>;ct=110;ct=40\n');
  assert.deepEqual(links, [
    { uri: '/1', params: { ver: '1.1' } },
    { uri: '/3/0/9', params: { pmin: true, pmax: true } },
    { uri: '/3303/0', params: { ct: '110' } },
  ]);
});

test('RFC 6690 §2: broken input gets M2M_COAP_LINK_FORMAT', () => {
  for (const bad of ['/1', '</1', '</1>x', '</1>;', '</1>;="a"', '</1>;rt="open', '</1>,', '</1>,,</2>', '</1>;a=', '</1>;a=b"c', '<a b>', '</1>;r t=1']) {
    assert.throws(() => parseLinkFormat(bad), (e) => CoapErrors.linkFormat.is(e), bad);
  }
});

test('link-format parsing is bounded (length, links, params)', () => {
  assert.throws(() => parseLinkFormat('</a>,'.repeat(20).slice(0, -1), { maxLength: 1000, maxLinks: 10, maxParamsPerLink: 4 }), (e) =>
    CoapErrors.linkFormat.is(e),
  );
  assert.throws(() => parseLinkFormat(`</a>${';x'.repeat(5)}`, { maxLength: 1000, maxLinks: 10, maxParamsPerLink: 4 }));
  assert.throws(() => parseLinkFormat('<'.repeat(70_000)), (e) => CoapErrors.linkFormat.is(e));
});

test('RFC 6690 §2: serializer round-trips and quotes rt/if and values that are not ptokens', () => {
  const links = [
    { uri: '/', params: { rt: 'oma.lwm2m', ct: '110' } },
    { uri: '/1', params: { ver: '1.1' } },
    { uri: '/3/0/9', params: { pmin: '5', obs: true as const, title: 'a b' } },
  ];
  const s = serializeLinkFormat(links);
  assert.equal(s, '</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</3/0/9>;pmin=5;obs;title="a b"');
  assert.deepEqual(parseLinkFormat(s), links);
});

test('fuzz: 30,000 mutated link-format payloads only ever parse or throw M2M_COAP_LINK_FORMAT', async () => {
  const { SeededRandom } = await import('@m2mhub/core/testing');
  const r = new SeededRandom(99);
  const seeds = [
    '</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</2/0>,</3/0>,</4/0>,</5/0>,</6/0>,</7/0>,</31024>;ver=1.0,</31024/10>',
    '</1/1>,</2>,</3/0>,</10>;ver=1.1,</3303/0>,</33605>',
    '</3/0/6>;dim=1,</3/0/9>;gt=90;lt=10;st=5;pmin;title="a \\"b\\""',
  ];
  const alphabet = '<>;,="\\/ 0123456789abcrt.\n';
  let ok = 0;
  let rejected = 0;
  for (let i = 0; i < 30_000; i++) {
    const chars = [...seeds[r.int(seeds.length)]!];
    const edits = 1 + r.int(6);
    for (let e = 0; e < edits; e++) {
      const at = r.int(chars.length + 1);
      const c = alphabet[r.int(alphabet.length)]!;
      const op = r.int(3);
      if (op === 0) chars.splice(at, 0, c);
      else if (op === 1) chars.splice(at, 1);
      else chars[at] = c;
    }
    try {
      const links = parseLinkFormat(chars.join(''));
      for (const l of links) assert.equal(typeof l.uri, 'string');
      ok++;
    } catch (e) {
      assert.ok(CoapErrors.linkFormat.is(e), String(e));
      rejected++;
    }
  }
  assert.ok(ok > 1000 && rejected > 1000, `ok ${ok} rejected ${rejected}`);
});
