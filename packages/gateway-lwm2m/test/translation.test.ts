import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODE_NAMES } from '@m2mhub/coap';
import { createObjectRegistry } from '@m2mhub/lwm2m';
import {
  autoObservePaths,
  CommandError,
  clampLifetime,
  codeMsg,
  defaultConfig,
  Lwm2mTopics,
  makeCommandEcho,
  makeReply,
  parseCommand,
  parseConfig,
  parseObjectLinks,
  queryParams,
  toContent,
  ValueError,
  writeItemToValue,
} from '../src/index';

/** An EMQX topic placeholder such as ${endpoint_name} (built so it is not mistaken for a JS template). */
const ph = (name: string) => `$${'{'}${name}}`;
const { registry: model } = createObjectRegistry();
const enc = (o: unknown) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));
const parse = (o: unknown) => parseCommand(enc(o), { maxSize: 65536 });
const failure = (o: unknown): CommandError => {
  try {
    parse(o);
  } catch (e) {
    if (e instanceof CommandError) return e;
    throw e;
  }
  throw new Error('expected a CommandError');
};

describe('commands (DESIGN.md §3)', () => {
  it('EMQX read command: path, reqID and other fields kept', () => {
    const p = parse({ reqID: 7, imei: 'x', msgType: 'read', data: { path: '/3/0/3' } });
    assert.deepEqual(p.cmd, { msgType: 'read', path: '/3/0/3' });
    assert.equal(p.raw.reqID, 7);
  });
  it('single and batch write, relative batch paths joined to basePath', () => {
    assert.deepEqual(parse({ msgType: 'write', data: { path: '/3/0/14', type: 'String', value: '+02:00' } }).cmd, {
      msgType: 'write',
      path: '/3/0/14',
      items: [{ path: '/3/0/14', type: 'String', value: '+02:00' }],
      batch: false,
    });
    const b = parse({ msgType: 'write', data: { basePath: '/3/0', content: [{ path: '/14', type: 'String', value: 'Z' }, { path: '/3/0/15', value: 'UTC' }] } });
    assert.deepEqual(
      b.cmd.msgType === 'write' && b.cmd.items.map((i) => i.path),
      ['/3/0/14', '/3/0/15'],
    );
  });
  it('write-attr takes numbers or numeric strings; an empty string clears', () => {
    const p = parse({ msgType: 'write-attr', data: { path: '/3/0/9', pmin: 5, pmax: '60', gt: '' } });
    assert.deepEqual(p.cmd, { msgType: 'write-attr', path: '/3/0/9', attrs: [['pmin', '5'], ['pmax', '60'], ['gt', '']] });
    assert.match(failure({ msgType: 'write-attr', data: { path: '/3/0/9', pmin: 'soon' } }).message, /pmin/);
  });
  it('composite commands take paths or content', () => {
    assert.deepEqual(parse({ msgType: 'read-composite', data: { paths: ['/3/0/0', '/1/0/1'] } }).cmd, {
      msgType: 'read-composite',
      path: '/3/0/0,/1/0/1',
      paths: ['/3/0/0', '/1/0/1'],
    });
    const w = parse({ msgType: 'write-composite', data: { content: [{ path: '/3/0/14', value: '+01' }] } });
    assert.equal(w.cmd.msgType, 'write-composite');
  });
  it('bad input: invalid JSON, unknown msgType, bad path, oversize, missing data', () => {
    assert.match(failure('{"msgType": "read", ').message, /invalid JSON/);
    const u = failure({ reqID: 1, msgType: 'reboot', data: { path: '/3/0/4' } });
    assert.match(u.message, /unknown msgType/);
    assert.equal(u.msgType, 'reboot');
    assert.equal(u.reqPath, '/3/0/4');
    assert.equal(u.raw?.reqID, 1);
    assert.match(failure({ msgType: 'read', data: { path: '3/0' } }).message, /not an LwM2M path/);
    assert.match(failure({ msgType: 'read', data: { path: '/3/70000' } }).message, /65535/);
    assert.match(failure({ msgType: 'read' }).message, /data/);
    assert.match(failure({ msgType: 'execute', data: { path: '/3/0' } }).message, /resource path/);
    assert.throws(() => parseCommand(enc({ msgType: 'read', data: { path: '/3' } }), { maxSize: 10 }), /over the limit/);
    assert.match(failure([1, 2]).message, /JSON object/);
    assert.match(failure('\u00ff').message, /invalid JSON/);
  });
  it('fuzz: random bytes and mutated commands never throw anything but CommandError', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const base = JSON.stringify({ reqID: 1, msgType: 'write', data: { basePath: '/3/0', content: [{ path: '/14', type: 'String', value: 'x' }] } });
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(Math.floor(rnd() * 64)).map(() => Math.floor(rnd() * 256));
      } else {
        const chars = [...base];
        for (let k = 0; k < 3; k++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(32 + Math.floor(rnd() * 95));
        bytes = enc(chars.join(''));
      }
      try {
        parseCommand(bytes, { maxSize: 65536 });
      } catch (e) {
        assert.ok(e instanceof CommandError, String(e));
      }
    }
  });
});

describe('replies (EMQX shapes)', () => {
  it('reply = command with data replaced, other fields echoed, ep added', () => {
    const r = makeReply('ep1', 'read', { reqID: 3, msgType: 'read', data: { path: '/3/0/3' } }, '/3/0/3', '2.05', {
      content: [{ path: '/3/0/3', value: '1.0' }],
    });
    assert.deepEqual(r, {
      reqID: 3,
      msgType: 'read',
      data: { reqPath: '/3/0/3', code: '2.05', codeMsg: 'content', content: [{ path: '/3/0/3', value: '1.0' }] },
      ep: 'ep1',
    });
    assert.equal(codeMsg('4.04'), 'not_found');
    assert.equal(codeMsg('2.04'), 'changed');
  });
  it('RFC 7252 §12.1.2: codeMsg names every code of the CoAP table and answers unknown for others (EMQX)', () => {
    // codeMsg used to keep its own copy of the table; it now reads CODE_NAMES from @m2mhub/coap.
    for (const [code, name] of Object.entries(CODE_NAMES)) assert.equal(codeMsg(code), name);
    assert.equal(codeMsg('4.03'), 'forbidden');
    assert.equal(codeMsg('6.66'), 'unknown');
  });
  it('ack / coap_timeout echo the command with msgType replaced', () => {
    assert.deepEqual(makeCommandEcho('e', 'coap_timeout', { reqID: 'a', msgType: 'read', data: { path: '/3/0' } }), {
      reqID: 'a',
      msgType: 'coap_timeout',
      data: { path: '/3/0' },
      ep: 'e',
    });
  });
});

describe('values typed by the object model', () => {
  it('Boolean, Integer, Float, Time, Objlnk, Opaque to JSON', () => {
    const c = toContent(
      [
        { path: '/3/0/9', value: 87 },
        { path: '/1/0/6', value: 1 },
        { path: '/3/0/13', value: 1764000000n },
        { path: '/3/0/0', value: new TextEncoder().encode('OMA') },
        { path: '/3/0/17', value: 'dev' },
        { path: '/5/0/0', value: new Uint8Array([1, 2, 255]) },
        { path: '/16/0/0/0', value: { objectId: 3, instanceId: 0 }, time: 5 },
      ],
      model,
    );
    assert.deepEqual(c, [
      { path: '/3/0/9', value: 87 },
      { path: '/1/0/6', value: true },
      { path: '/3/0/13', value: 1764000000 },
      { path: '/3/0/0', value: 'OMA' },
      { path: '/3/0/17', value: 'dev' },
      { path: '/5/0/0', value: 'AQL/' },
      { path: '/16/0/0/0', value: '3:0', time: 5 },
    ]);
  });
  it('write values are checked against the model type', () => {
    assert.deepEqual(writeItemToValue({ path: '/1/0/1', type: 'Integer', value: '600' }, model), { path: '/1/0/1', type: 'integer', value: 600 });
    assert.deepEqual(writeItemToValue({ path: '/1/0/6', value: 'true' }, model).value, true);
    assert.throws(() => writeItemToValue({ path: '/1/0/1', value: 'abc' }, model), ValueError);
    assert.throws(() => writeItemToValue({ path: '/1/0/1', type: 'String', value: 'x' }, model), /model says integer/);
    assert.throws(() => writeItemToValue({ path: '/31024/0/1', value: 'x' }, model), /add "type"/);
    assert.deepEqual(writeItemToValue({ path: '/31024/0/1', type: 'Objlnk', value: '3:0' }, model).value, { objectId: 3, instanceId: 0 });
    assert.throws(() => writeItemToValue({ path: '/5/0/0', value: 'not base64!' }, model), /base64/);
  });
});

describe('registration shapes', () => {
  it('LwM2M Core §6.2.1.1: alternate path and object list from the Wakaama links', () => {
    const links = '</>;rt="oma.lwm2m";ct=110,</1>;ver=1.1,</1/0>,</2/0>,</3/0>,</31024>;ver=1.0,</31024/10>'.split(',');
    assert.deepEqual(parseObjectLinks(links), { alternatePath: '/', objectList: ['/1', '/1/0', '/2/0', '/3/0', '/31024', '/31024/10'] });
    assert.deepEqual(parseObjectLinks(['</lwm2m>;rt="oma.lwm2m"', '</lwm2m/3/0>']), { alternatePath: '/lwm2m', objectList: ['/3/0'] });
  });
  it('secrets in registration query parameters are never published', () => {
    assert.deepEqual(queryParams(['ep=a', 'lt=300', 'password=hunter2', 'apiKey=1', 'Q'], defaultConfig().sensitive_params), {
      ep: 'a',
      lt: 300,
      Q: true,
    });
  });
  it('auto-observe true skips objects 0-2,4-7,9,15 and objects without definition', () => {
    const list = ['/1', '/1/0', '/2/0', '/3/0', '/4/0', '/5/0', '/6/0', '/7/0', '/31024', '/31024/10', '/3303/0'];
    assert.deepEqual(autoObservePaths(true, list, model), ['/3/0', '/3303/0']);
    assert.deepEqual(autoObservePaths(false, list, model), []);
    assert.deepEqual(autoObservePaths(['/3303/0', '/9/0'], list, model), ['/3303/0']);
  });
});

describe('config and topics', () => {
  it('EMQX keys with durations, defaults kept, bad values named', () => {
    const c = parseConfig({ qmode_time_window: '22s', lifetime_max: '1h', auto_observe: '/3/0,/5/0', translators: { command: { topic: 'dn/#' } } });
    assert.equal(c.qmode_time_window, 22);
    assert.equal(c.lifetime_max, 3600);
    assert.deepEqual(c.auto_observe, ['/3/0', '/5/0']);
    assert.equal(c.translators.response.topic, 'up/resp');
    assert.equal(defaultConfig().qmode_time_window, 93);
    assert.throws(() => parseConfig({ lifetime_min: 'soon' }), /lwm2m.lifetime_min="soon"/);
    assert.throws(() => parseConfig({ update_msg_publish_condition: 'never' }), /contains_object_list/);
    assert.throws(() => parseConfig({ mountpoint: `${ph('nope')}/` }), /unknown placeholder/);
    assert.equal(clampLifetime(300, c), 300);
    assert.equal(clampLifetime(undefined, c), 3600);
  });
  it('default topics keep devices apart; EMQX mountpoint default works', () => {
    const t = new Lwm2mTopics(defaultConfig());
    assert.equal(t.commandWildcard().topic, 'dn/+/#');
    assert.deepEqual(t.endpointOf('dn/dev1'), { ep: 'dev1' });
    assert.deepEqual(t.endpointOf('dn/dev1/x'), { ep: 'dev1' });
    assert.equal(t.endpointOf('up/resp'), undefined);
    assert.equal(t.uplink('response', 'dev1').topic, 'up/resp');
    const e = new Lwm2mTopics(parseConfig({ mountpoint: `lwm2m/${ph('endpoint_name')}/`, translators: { command: { topic: 'dn/#' } } }));
    assert.equal(e.commandWildcard().topic, 'lwm2m/+/dn/#');
    assert.deepEqual(e.endpointOf('lwm2m/dev2/dn'), { ep: 'dev2' });
    assert.equal(e.endpointOf('lwm2m/dev2/up/resp'), undefined);
    assert.equal(e.uplink('notify', 'dev2').topic, 'lwm2m/dev2/up/notify');
    assert.equal(e.uplink('notify', 'a/b+#').topic, 'lwm2m/a_b__/up/notify');
    const shared = new Lwm2mTopics(parseConfig({ translators: { command: { topic: 'dn/#' } } }));
    assert.equal(shared.endpointOf('dn/x'), 'shared');
  });
});
