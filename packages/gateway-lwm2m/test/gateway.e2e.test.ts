import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSocket } from 'node:dgram';
import { CoapEndpoint, OptionNumber, parseMessage, serializeMessage, UdpTransport } from '@m2mhub/coap';
import { ContentFormat } from '@m2mhub/lwm2m';
import { basicProfile, wakaamaProfile } from '@m2mhub/simulator';
import { Dedupe } from '../src/index';
import { Harness } from './harness';

describe('LwM2M gateway end to end (real broker, UDP, simulated devices, MQTT.js)', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(async () => {
    await h.close();
  });

  it('DESIGN.md §3 walkthrough: register shape, auto-observe reply of /3/0 decoded from SenML JSON, read /3/0/3', async () => {
    await h.device(wakaamaProfile('testlwm2mclient'));
    const reg = await h.waitFor((r) => r.topic === 'up/register' && r.json.ep === 'testlwm2mclient');
    assert.deepEqual(reg.json, {
      msgType: 'register',
      data: {
        objectList: ['/1', '/1/0', '/2/0', '/3/0', '/4/0', '/5/0', '/6/0', '/7/0', '/31024', '/31024/10', '/31024/11', '/31024/12'],
        lwm2m: '1.1',
        lt: 300,
        ep: 'testlwm2mclient',
        b: 'U',
        alternatePath: '/',
      },
      ep: 'testlwm2mclient',
    });
    const auto = await h.waitFor((r) => r.topic === 'up/resp' && r.json.is_auto_observe === true);
    const data = auto.json.data as { reqPath: string; code: string; content: { path: string; value: unknown }[] };
    assert.equal(auto.json.msgType, 'observe');
    assert.equal(data.reqPath, '/3/0');
    assert.equal(data.code, '2.05');
    assert.deepEqual(data.content[0], { path: '/3/0/0', value: 'Open Mobile Alliance' });
    assert.ok(data.content.some((c) => c.path === '/3/0/9' && c.value === 100));
    // Only /3/0 is auto-observed (objects 1,2,4-7 skipped, 31024 has no definition).
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.received.filter((r) => r.json.is_auto_observe === true).length, 1);

    const from = h.received.length;
    await h.publish('dn/testlwm2mclient', '{"msgType": "read", "data": {"path": "/3/0/3"}}');
    const read = await h.waitFor((r) => r.topic === 'up/resp' && r.json.msgType === 'read', 5000, from);
    assert.deepEqual(read.json, {
      msgType: 'read',
      data: { reqPath: '/3/0/3', content: [{ value: '1.0', path: '/3/0/3' }], codeMsg: 'content', code: '2.05' },
      ep: 'testlwm2mclient',
    });
  });

  it('every msgType round trip, reqID and extra fields echoed', async () => {
    const ep = 'all-ops';
    await h.device(basicProfile(ep, '1.1'));
    await h.waitFor((r) => r.topic === 'up/register' && r.json.ep === ep);
    const run = (reqID: number, msgType: string, data: Record<string, unknown>) => h.command(ep, { reqID, imei: 'x1', msgType, data });

    const read = await run(1, 'read', { path: '/3303/0/5700' });
    assert.deepEqual(read.data, { reqPath: '/3303/0/5700', code: '2.05', codeMsg: 'content', content: [{ path: '/3303/0/5700', value: 21.5 }] });
    assert.equal(read.imei, 'x1');

    const disc = await run(2, 'discover', { path: '/3303/0' });
    assert.equal((disc.data as { code: string }).code, '2.05');
    assert.ok(((disc.data as { content: string[] }).content).includes('</3303/0/5700>'));

    const w = await run(3, 'write', { path: '/3/0/14', type: 'String', value: '+02:00' });
    assert.deepEqual(w.data, { reqPath: '/3/0/14', code: '2.04', codeMsg: 'changed' });
    assert.deepEqual(((await run(4, 'read', { path: '/3/0/14' })).data as { content: unknown }).content, [{ path: '/3/0/14', value: '+02:00' }]);

    const batch = await run(5, 'write', { basePath: '/3/0', content: [{ path: '/14', value: '+03:00' }, { path: '/15', value: 'Europe/Kyiv' }] });
    assert.equal((batch.data as { code: string }).code, '2.04');

    const attr = await run(6, 'write-attr', { path: '/3303/0/5700', pmin: 1, pmax: '60' });
    assert.equal((attr.data as { code: string }).code, '2.04');

    const exec = await run(7, 'execute', { path: '/3/0/4', args: '' });
    assert.deepEqual(exec.data, { reqPath: '/3/0/4', code: '2.04', codeMsg: 'changed' });

    const create = await run(8, 'create', { basePath: '/3303', content: [{ path: '/1/5700', value: 19.5 }, { path: '/1/5701', value: 'Cel' }] });
    assert.equal((create.data as { code: string }).code, '2.01');
    assert.equal((create.data as { location?: string }).location, '/3303/1');

    const del = await run(9, 'delete', { path: '/3303/1' });
    assert.deepEqual(del.data, { reqPath: '/3303/1', code: '2.02', codeMsg: 'deleted' });

    const rc = await run(10, 'read-composite', { paths: ['/3/0/0', '/3303/0/5700'] });
    assert.deepEqual((rc.data as { content: unknown }).content, [
      { path: '/3/0/0', value: 'Open Mobile Alliance' },
      { path: '/3303/0/5700', value: 21.5 },
    ]);

    const wc = await run(11, 'write-composite', { content: [{ path: '/3/0/14', value: '+04:00' }, { path: '/1/0/1', value: 600 }] });
    assert.equal((wc.data as { code: string }).code, '2.04');
    assert.deepEqual(((await run(12, 'read', { path: '/1/0/1' })).data as { content: unknown }).content, [{ path: '/1/0/1', value: 600 }]);

    // observe -> notify with seqNum -> cancel-observe
    const obs = await run(13, 'observe', { path: '/3303/0/5700' });
    assert.equal((obs.data as { code: string }).code, '2.05');
    const from = h.received.length;
    h.devices.at(-1)!.device.setValue('/3303/0/5700', 25.25);
    const n = await h.waitFor((r) => r.topic === 'up/notify' && r.json.ep === ep && r.json.reqID === 13, 5000, from);
    // the auto-observe of /3303/0 notifies too, with is_auto_observe
    await h.waitFor((r) => r.topic === 'up/notify' && r.json.ep === ep && r.json.is_auto_observe === true, 5000, from);
    assert.equal(n.json.msgType, 'notify');
    assert.equal(n.json.reqID, 13);
    assert.equal(typeof n.json.seqNum, 'number');
    assert.deepEqual((n.json.data as { content: unknown }).content, [{ path: '/3303/0/5700', value: 25.25 }]);
    const cancel = await run(14, 'cancel-observe', { path: '/3303/0/5700' });
    assert.equal((cancel.data as { code: string }).code, '2.05');
    const again = await run(15, 'cancel-observe', { path: '/3303/0/5700' });
    assert.equal((again.data as { code: string }).code, '4.04');

    const oc = await run(16, 'observe-composite', { paths: ['/3303/0/5700', '/3/0/9'] });
    assert.equal((oc.data as { code: string }).code, '2.05');
    const coc = await run(17, 'cancel-observe-composite', { paths: ['/3/0/9', '/3303/0/5700'] });
    assert.equal((coc.data as { code: string }).code, '2.05');

    // a specific content format on request
    const tlv = await run(18, 'read', { path: '/3303/0', format: 'tlv' });
    const tlvContent = (tlv.data as { content: unknown[] }).content;
    assert.deepEqual(tlvContent.slice(0, 2), [
      { path: '/3303/0/5700', value: 25.25 },
      { path: '/3303/0/5701', value: 'Cel' },
    ]);
  });

  it('each content format the device may answer in decodes to the same typed content', async () => {
    const ep = 'formats';
    await h.device(basicProfile(ep, '1.1'));
    await h.waitFor((r) => r.topic === 'up/register' && r.json.ep === ep);
    const formats = ['tlv', 'senml-json', 'senml-cbor', 'lwm2m-json', 'lwm2m-cbor'];
    let id = 100;
    for (const format of formats) {
      const r = await h.command(ep, { reqID: id++, msgType: 'read', data: { path: '/1/0', format } });
      const content = (r.data as { content: { path: string; value: unknown }[] }).content;
      assert.ok(content.some((c) => c.path === '/1/0/6' && c.value === false), `${format}: ${JSON.stringify(r)}`);
      assert.ok(content.some((c) => c.path === '/1/0/1' && c.value === 300), `${format}: ${JSON.stringify(r)}`);
    }
    const text = await h.command(ep, { reqID: id++, msgType: 'read', data: { path: '/1/0/6', format: ContentFormat.TEXT } });
    assert.deepEqual((text.data as { content: unknown }).content, [{ path: '/1/0/6', value: false }]);
    const cbor = await h.command(ep, { reqID: id++, msgType: 'read', data: { path: '/3/0/13', format: 'cbor' } });
    assert.deepEqual((cbor.data as { content: unknown }).content, [{ path: '/3/0/13', value: 1_764_000_000 }]);
  });

  it('bad input gets an error reply and the device keeps working', async () => {
    const ep = 'bad-input';
    await h.device(basicProfile(ep, '1.1'));
    await h.waitFor((r) => r.topic === 'up/register' && r.json.ep === ep);
    let from = h.received.length;
    await h.publish(`dn/${ep}`, '{"msgType": "read", ');
    const invalid = await h.waitFor((r) => r.topic === 'up/resp' && r.json.ep === ep && r.json.is_auto_observe === undefined, 5000, from);
    assert.equal((invalid.json.data as { code: string }).code, '4.00');
    assert.equal((invalid.json.data as { codeMsg: string }).codeMsg, 'bad_request');
    assert.match((invalid.json.data as { error: string }).error, /invalid JSON/);

    const unknown = await h.command(ep, { reqID: 'u', msgType: 'reboot', data: { path: '/3/0/4' } });
    assert.equal(unknown.msgType, 'reboot');
    assert.equal((unknown.data as { code: string }).code, '4.00');
    const badPath = await h.command(ep, { reqID: 'p', msgType: 'read', data: { path: '/3/x' } });
    assert.equal((badPath.data as { code: string }).code, '4.00');
    const badValue = await h.command(ep, { reqID: 'v', msgType: 'write', data: { path: '/1/0/1', value: 'soon' } });
    assert.equal((badValue.data as { code: string }).code, '4.00');
    assert.match((badValue.data as { error: string }).error, /integer/);
    const readOnly = await h.command(ep, { reqID: 'ro', msgType: 'write', data: { path: '/3/0/0', value: 'x' } });
    assert.match((readOnly.data as { error: string }).error, /not writable/);
    const notFound = await h.command('nobody', { reqID: 'n', msgType: 'read', data: { path: '/3/0/0' } });
    assert.equal((notFound.data as { code: string }).code, '4.04');
    assert.equal((notFound.data as { codeMsg: string }).codeMsg, 'not_found');
    assert.match((notFound.data as { error: string }).error, /not registered/);
    // still works
    from = h.received.length;
    const ok = await h.command(ep, { reqID: 'ok', msgType: 'read', data: { path: '/3/0/0' } });
    assert.equal((ok.data as { code: string }).code, '2.05');
  });

  it('a command flood for one device is bounded: the rest get error replies, other devices are unaffected', async () => {
    const h2 = await Harness.start({ max_queue_length: 5, auto_observe: false });
    try {
      await h2.device(basicProfile('flood', '1.1'));
      await h2.device(basicProfile('calm', '1.1'));
      const from = h2.received.length;
      for (let i = 0; i < 40; i++) void h2.publish('dn/flood', { reqID: i, msgType: 'read', data: { path: '/3/0/0' } });
      const calm = await h2.command('calm', { reqID: 'c', msgType: 'read', data: { path: '/3/0/9' } });
      assert.equal((calm.data as { code: string }).code, '2.05');
      await h2.waitFor(() => h2.received.slice(from).filter((r) => r.json.ep === 'flood').length >= 40, 10000, from);
      const replies = h2.received.slice(from).filter((r) => r.json.ep === 'flood');
      const ok = replies.filter((r) => (r.json.data as { code: string }).code === '2.05').length;
      const full = replies.filter((r) => (r.json.data as { code: string }).code === '5.03').length;
      assert.equal(ok + full, 40);
      assert.ok(full >= 30, `full=${full}`);
      assert.ok(ok >= 5, `ok=${ok}`);
    } finally {
      await h2.close();
    }
  });

  it('two devices never receive each other\'s commands (default topics)', async () => {
    const a = await h.device(basicProfile('dev-a', '1.1'));
    const b = await h.device(basicProfile('dev-b', '1.1'));
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.on('request', (r) => seenA.push(r.path));
    b.on('request', (r) => seenB.push(r.path));
    await h.command('dev-a', { reqID: 'a1', msgType: 'read', data: { path: '/3303/0/5701' } });
    await h.command('dev-b', { reqID: 'b1', msgType: 'read', data: { path: '/3/0/2' } });
    assert.ok(seenA.includes('/3303/0/5701') && !seenA.includes('/3/0/2'));
    assert.ok(seenB.includes('/3/0/2') && !seenB.includes('/3303/0/5701'));
  });

  it('LwM2M 1.1 Send is published on up/send; deregister on up/event', async () => {
    const d = await h.device(basicProfile('sender', '1.1'));
    await h.waitFor((r) => r.topic === 'up/register' && r.json.ep === 'sender');
    const res = await d.send(['/3303/0/5700']);
    assert.equal(res.code, '2.04');
    const s = await h.waitFor((r) => r.topic === 'up/send' && r.json.ep === 'sender');
    assert.equal(s.json.msgType, 'send');
    assert.deepEqual((s.json.data as { content: unknown }).content, [{ path: '/3303/0/5700', value: 21.5 }]);
    await d.deregister();
    const e = await h.waitFor((r) => r.topic === 'up/event' && r.json.ep === 'sender');
    assert.equal(e.json.msgType, 'deregister');
    const gone = await h.command('sender', { reqID: 'g', msgType: 'read', data: { path: '/3/0/0' } });
    assert.equal((gone.data as { code: string }).code, '4.04');
  });

  it('LwM2M Core §6.2.1: extra query parameters are published as sent, secrets never; an Update merges (update_msg_publish_condition=always)', async () => {
    const h2 = await Harness.start({ auto_observe: false, update_msg_publish_condition: 'always' });
    const client = new CoapEndpoint({ transport: new UdpTransport({ address: '127.0.0.1', port: 0 }) });
    try {
      await client.start();
      const res = await client.request(h2.udpAddress(), {
        method: 'POST',
        path: ['rd'],
        query: ['ep=raw-1', 'lt=120', 'lwm2m=1.0', 'imei=356938035643809', 'apn=psmA.eDRX0.ctnb', 'password=hunter2', 'token=abc'],
        contentFormat: ContentFormat.LINK,
        payload: new TextEncoder().encode('</3303>,</3303/0>,</3/0>'),
      });
      assert.equal(res.code, '2.01');
      const reg = await h2.waitFor((r) => r.topic === 'up/register' && r.json.ep === 'raw-1');
      // objectList is the links as sent (EMQX), order and the object-level </3303> kept.
      assert.deepEqual(reg.json.data, {
        ep: 'raw-1',
        lt: 120,
        lwm2m: '1.0',
        imei: '356938035643809',
        apn: 'psmA.eDRX0.ctnb',
        alternatePath: '/',
        objectList: ['/3303', '/3303/0', '/3/0'],
      });
      assert.ok(!JSON.stringify(h2.received).includes('hunter2'));
      const location = res.options.filter((o) => o.number === 8).map((o) => new TextDecoder().decode(o.value));
      const upd = await client.request(h2.udpAddress(), { method: 'POST', path: location, query: ['lt=600'] });
      assert.equal(upd.code, '2.04');
      const u = await h2.waitFor((r) => r.topic === 'up/update' && r.json.ep === 'raw-1');
      assert.equal((u.json.data as { lt: number }).lt, 600);
      assert.equal((u.json.data as { imei: string }).imei, '356938035643809');
      assert.deepEqual((u.json.data as { objectList: string[] }).objectList, ['/3303', '/3303/0', '/3/0']);
    } finally {
      await client.close();
      await h2.close();
    }
  });

  it('RFC 7252 §5.2.2: a device answering with an Empty ACK first gives EMQX\'s ack, then the reply', async () => {
    // A device written directly on our CoAP endpoint whose handler is slower than its
    // separate-response delay, so it sends an Empty ACK and the response later.
    const dev = new CoapEndpoint({ transport: new UdpTransport({ address: '127.0.0.1', port: 0 }), limits: { separateResponseDelayMs: 30 } });
    dev.fallback(async () => {
      await new Promise((r) => setTimeout(r, 200));
      return { code: '2.05', contentFormat: ContentFormat.TEXT, payload: new TextEncoder().encode('slow') };
    });
    try {
      await dev.start();
      const res = await dev.request(h.udpAddress(), {
        method: 'POST',
        path: ['rd'],
        query: ['ep=slowpoke', 'lt=300', 'lwm2m=1.1', 'b=U'],
        contentFormat: ContentFormat.LINK,
        payload: new TextEncoder().encode('</3/0>'),
      });
      assert.equal(res.code, '2.01');
      const from = h.received.length;
      await h.publish('dn/slowpoke', { reqID: 's1', msgType: 'read', data: { path: '/3/0/0' } });
      const reply = await h.waitFor((r) => r.topic === 'up/resp' && r.json.reqID === 's1' && r.json.msgType === 'read', 5000, from);
      assert.deepEqual((reply.json.data as { content: unknown }).content, [{ path: '/3/0/0', value: 'slow' }]);
      const acks = h.received.slice(from).filter((r) => r.topic === 'up/resp' && r.json.reqID === 's1' && r.json.msgType === 'ack');
      assert.equal(acks.length, 1);
      assert.deepEqual(acks[0]!.json.data, { path: '/3/0/0' });
      assert.ok(h.received.indexOf(acks[0]!) < h.received.indexOf(reply), 'ack before the reply');
    } finally {
      await dev.close();
    }
  });

  it('RFC 7252 §4.2: a device that answers a request with a Reset gives coap_reset', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const gw = h.udpAddress();
    let registered: () => void = () => {};
    const done = new Promise<void>((r) => {
      registered = r;
    });
    sock.on('message', (buf) => {
      const msg = parseMessage(new Uint8Array(buf));
      if (msg.type === 'ACK' && msg.code === '2.01') registered();
      // Every request from the server gets an RST with its message id.
      if (msg.type === 'CON' && msg.code.startsWith('0.')) sock.send(serializeMessage({ type: 'RST', code: '0.00', messageId: msg.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) }), gw.port, gw.address);
    });
    try {
      const reg = serializeMessage({
        type: 'CON',
        code: '0.02',
        messageId: 77,
        token: new Uint8Array([1, 2]),
        options: [
          { number: OptionNumber.UriPath, value: new TextEncoder().encode('rd') },
          { number: OptionNumber.UriQuery, value: new TextEncoder().encode('ep=rst-dev') },
        ],
        payload: new TextEncoder().encode('</3/0>'),
      });
      sock.send(reg, gw.port, gw.address);
      await done;
      const r = await h.command('rst-dev', { reqID: 'x', msgType: 'read', data: { path: '/3/0/0' } });
      assert.equal(r.msgType, 'coap_reset');
      assert.deepEqual(r.data, { path: '/3/0/0' });
    } finally {
      sock.close();
    }
  });

  it('a command is executed once: the gateway holds one subscription, and a broker message seen twice (same id) is dropped', async () => {
    const d = await h.device(basicProfile('once', '1.1'));
    const seen: string[] = [];
    d.on('request', (r) => seen.push(`${r.method} ${r.path}`));
    await h.gateway.gatewayCore!.start(); // a second start must not subscribe again
    await h.command('once', { reqID: 'one', msgType: 'read', data: { path: '/3/0/2' } });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.filter((x) => x === 'GET /3/0/2').length, 1);
    assert.equal(h.received.filter((r) => r.topic === 'up/resp' && r.json.reqID === 'one').length, 1);
    const dd = new Dedupe(2, 1000);
    assert.equal(dd.first({ id: 'b1:1' }, 0), 'b1:1');
    assert.equal(dd.first({ id: 'b1:1' }, 5000), undefined);
    const bytes = new TextEncoder().encode('{}');
    const digest = dd.first({ topic: 'dn/x', payload: bytes }, 0);
    assert.ok(digest?.startsWith('h:'), 'without an id: a digest of topic and payload');
    assert.equal(dd.first({ topic: 'dn/x', payload: bytes }, 500), undefined, 'the same topic and payload within the interval');
    assert.equal(dd.first({ topic: 'dn/x', payload: bytes }, 2000), digest, 'after the interval it is a new command');
  });

  it('EMQX REST shortcuts: read/write/observe send the command (reply on up/resp), lookup returns the last reply', async () => {
    await h.device(basicProfile('rest', '1.1'));
    await h.waitFor((r) => r.topic === 'up/register' && r.json.ep === 'rest');
    const route = (method: string, url: string) => h.routes.find((r) => r.method === method && r.url === url)!;
    const call = (method: string, url: string, ep: string, query: Record<string, string>) => route(method, url).handler({ params: { ep }, query, body: undefined });
    let from = h.received.length;
    assert.equal((await call('GET', '/clients/:ep/read', 'rest', { path: '/3303/0/5701' })).status, 204);
    await h.waitFor((r) => r.topic === 'up/resp' && r.json.ep === 'rest' && r.json.msgType === 'read', 5000, from);
    const look = await call('GET', '/clients/:ep/lookup', 'rest', { path: '/3303/0/5701', action: 'read' });
    assert.equal(look.status, 200);
    assert.deepEqual(look.body, { clientid: 'rest', path: '/3303/0/5701', action: 'read', codeMsg: 'content', code: '2.05', content: [{ path: '/3303/0/5701', value: 'Cel' }] });
    from = h.received.length;
    assert.equal((await call('POST', '/clients/:ep/write', 'rest', { path: '/1/0/1', value: '900' })).status, 204);
    const w = await h.waitFor((r) => r.topic === 'up/resp' && r.json.ep === 'rest' && r.json.msgType === 'write', 5000, from);
    assert.equal((w.json.data as { code: string }).code, '2.04');
    from = h.received.length;
    assert.equal((await call('POST', '/clients/:ep/observe', 'rest', { path: '/3/0/9', enable: 'true' })).status, 204);
    await h.waitFor((r) => r.topic === 'up/resp' && r.json.ep === 'rest' && r.json.msgType === 'observe' && (r.json.data as { reqPath: string }).reqPath === '/3/0/9', 5000, from);
    assert.equal((await call('GET', '/clients/:ep/read', 'nobody', { path: '/3/0/0' })).status, 404);
    assert.equal((await call('GET', '/clients/:ep/read', 'rest', {})).status, 400);
    assert.equal((await call('GET', '/clients/:ep/lookup', 'rest', { path: '/9/9', action: 'read' })).status, 404);
  });
});
