import assert from 'node:assert/strict';
import { type Socket, createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type CoapEndpoint, type CoapMessage, OptionNumber, UdpTransport, parseMessage, serializeMessage } from '@m2mhub/coap';
import { fromHex } from '@m2mhub/core';
import { DEFAULT_REGISTER_LIMITS, type Lwm2mServer, type Lwm2mServerEvents, createLwm2mServer, createServerEndpoint } from '../src/index';
import { sharedDir } from '@m2mhub/core/testing';

/** Replays real client messages (fixtures/real-clients, README there) against our server over UDP. */
const FIXTURES = sharedDir('fixtures', 'real-clients');
interface Frame {
  frame: number;
  dir: string;
  messageHex: string;
  note: string;
}
function frames(file: string): Map<number, Frame> {
  const m = new Map<number, Frame>();
  for (const line of readFileSync(`${FIXTURES}/${file}`, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const f = JSON.parse(line) as Frame;
    m.set(f.frame, f);
  }
  return m;
}

class FixtureClient {
  private readonly waiting = new Map<number, (m: CoapMessage) => void>();
  constructor(readonly socket: Socket) {
    socket.on('message', (buf) => {
      const msg = parseMessage(new Uint8Array(buf));
      if (msg.type === 'ACK' || msg.type === 'RST') this.waiting.get(msg.messageId)?.(msg);
    });
  }
  static async open(): Promise<FixtureClient> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return new FixtureClient(s);
  }
  /** Sends the frame's exact bytes, with `/rd/0` rewritten to our registration location. */
  send(f: Frame, port: number, location?: string[], messageId?: number): Promise<CoapMessage> {
    let data = fromHex(f.messageHex);
    const msg = parseMessage(data);
    if (messageId !== undefined) {
      // A new message id, so the server's deduplication (RFC 7252 §4.5) does not replay the old answer.
      msg.messageId = messageId;
      data = serializeMessage(msg);
    }
    if (location) {
      const path = msg.options.filter((o) => o.number === OptionNumber.UriPath);
      if (path.length === 2 && Buffer.from(path[0]!.value).toString() === 'rd') {
        msg.options = msg.options.filter((o) => o.number !== OptionNumber.UriPath);
        for (const seg of location) msg.options.push({ number: OptionNumber.UriPath, value: new TextEncoder().encode(seg) });
        data = serializeMessage(msg);
      }
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to frame ${f.frame}`)), 3000);
      this.waiting.set(msg.messageId, (m) => {
        clearTimeout(t);
        this.waiting.delete(msg.messageId);
        resolve(m);
      });
      this.socket.send(data, port, '127.0.0.1');
    });
  }
  close(): void {
    this.socket.close();
  }
}

function locationOf(m: CoapMessage): string[] {
  return m.options.filter((o) => o.number === OptionNumber.LocationPath).map((o) => Buffer.from(o.value).toString());
}

function next<K extends keyof Lwm2mServerEvents>(server: Lwm2mServer, name: K): Promise<Lwm2mServerEvents[K]> {
  return new Promise((resolve) => {
    const off = server.on(name, (e) => {
      off();
      resolve(e);
    });
  });
}

describe('real LwM2M client captures replayed against the server', () => {
  let server: Lwm2mServer;
  let ep: CoapEndpoint;
  let port: number;
  before(async () => {
    server = createLwm2mServer();
    ep = createServerEndpoint(server, { transport: new UdpTransport({ address: '127.0.0.1', port: 0 }) });
    await ep.start();
    port = ep.address().port;
  });
  after(async () => {
    await ep.close();
    await server.close();
  });

  it('LwM2M Core §6.2: wakaama-client.jsonl frames 1, 40, 46, 58, 62, 64: register, updates without Content-Format, re-register, de-register', async () => {
    const f = frames('wakaama-client.jsonl');
    const c = await FixtureClient.open();
    try {
      const reg = next(server, 'registered');
      const r1 = await c.send(f.get(1)!, port);
      assert.equal(r1.code, '2.01');
      const loc = locationOf(r1);
      assert.equal(loc[0], 'rd');
      assert.notEqual(loc[1], 'wakaama-ep');
      const { registration } = await reg;
      assert.equal(registration.endpoint, 'wakaama-ep');
      assert.equal(registration.lwm2mVersion, '1.1');
      assert.equal(registration.binding, 'U');
      assert.equal(registration.lifetime, 300);
      assert.equal(registration.contentFormat, 110);
      assert.equal(registration.alternatePath, '/');
      assert.deepEqual(
        registration.objects.map((o) => [o.id, o.version ?? null, o.instances]),
        [
          [1, '1.1', [0]],
          [2, null, [0]],
          [3, null, [0]],
          [4, null, [0]],
          [5, null, [0]],
          [6, null, [0]],
          [7, null, [0]],
          [31024, '1.0', [10, 11, 12]],
        ],
      );
      // Frame 40: Update after Create /31024/20, full object list and no Content-Format.
      const up = next(server, 'updated');
      assert.equal((await c.send(f.get(40)!, port, loc)).code, '2.04');
      assert.deepEqual((await up).registration.objects.find((o) => o.id === 31024)?.instances, [10, 11, 12, 20]);
      assert.equal((await c.send(f.get(46)!, port, loc)).code, '2.04');
      assert.deepEqual((await server.getRegistration('wakaama-ep'))?.objects.find((o) => o.id === 31024)?.instances, [10, 11, 12]);
      assert.equal((await c.send(f.get(58)!, port, loc)).code, '2.04');
      // Frame 62: the restarted client registers again: the old registration is replaced.
      const replaced = next(server, 'deregistered');
      const r62 = await c.send(f.get(62)!, port);
      assert.equal(r62.code, '2.01');
      const ev = await replaced;
      assert.equal(ev.reason, 'replaced');
      assert.equal(ev.registration.id, loc[1]);
      const loc2 = locationOf(r62);
      assert.notDeepEqual(loc2, loc);
      // The old location is gone.
      assert.equal((await c.send(f.get(58)!, port, loc, 0x4242)).code, '4.04');
      const dereg = next(server, 'deregistered');
      assert.equal((await c.send(f.get(64)!, port, loc2)).code, '2.02');
      assert.equal((await dereg).reason, 'deregister');
      assert.equal(await server.getRegistration('wakaama-ep'), undefined);
    } finally {
      c.close();
    }
  });

  it('LwM2M Transport §6.4.3: anjay-client.jsonl frames 1-4: lwm2m=1.2 is accepted, 1.1 too; updates with lt; Send (frame 79) -> 2.04', async () => {
    const f = frames('anjay-client.jsonl');
    const c = await FixtureClient.open();
    try {
      // We support 1.2, so Anjay's first Register already succeeds (the Wakaama server answered 4.12).
      const r1 = await c.send(f.get(1)!, port);
      assert.equal(r1.code, '2.01');
      const reg12 = await server.getRegistration('anjay-ep');
      assert.equal(reg12?.lwm2mVersion, '1.2');
      const r3 = await c.send(f.get(3)!, port);
      assert.equal(r3.code, '2.01');
      const loc = locationOf(r3);
      const reg = (await server.getRegistration('anjay-ep'))!;
      assert.equal(reg.lwm2mVersion, '1.1');
      assert.equal(reg.lifetime, 60);
      assert.equal(reg.binding, 'U');
      assert.equal(reg.contentFormat, undefined);
      assert.deepEqual(reg.objects.find((o) => o.id === 1)?.instances, [1]);
      assert.equal(reg.objects.find((o) => o.id === 10)?.version, '1.1');
      assert.equal((await c.send(f.get(37)!, port, loc)).code, '2.04');
      assert.equal((await server.getRegistration('anjay-ep'))?.lifetime, 120);
      const send = next(server, 'send');
      const r79 = await c.send(f.get(79)!, port);
      assert.equal(r79.code, '2.04');
      const ev = await send;
      assert.equal(ev.registration.endpoint, 'anjay-ep');
      assert.equal(ev.contentFormat, 112);
      assert.ok(ev.content.length > 0);
      assert.equal((await c.send(f.get(87)!, port, loc)).code, '2.02');
    } finally {
      c.close();
    }
  });

  it('LwM2M Transport §6.4.3: anjay-client.jsonl frames 1-4 against a 1.0/1.1-only server: 1.2 -> 4.12, the 1.1 retry -> 2.01', async () => {
    const limited = createLwm2mServer({ config: { register: { ...DEFAULT_REGISTER_LIMITS, versions: ['1.0', '1.1'] } } });
    const lep = createServerEndpoint(limited, { transport: new UdpTransport({ address: '127.0.0.1', port: 0 }) });
    await lep.start();
    const f = frames('anjay-client.jsonl');
    const c = await FixtureClient.open();
    try {
      const r1 = await c.send(f.get(1)!, lep.address().port);
      assert.equal(r1.code, '4.12');
      assert.equal(await limited.getRegistration('anjay-ep'), undefined);
      const r3 = await c.send(f.get(3)!, lep.address().port);
      assert.equal(r3.code, '2.01');
      assert.equal((await limited.getRegistration('anjay-ep'))?.lwm2mVersion, '1.1');
    } finally {
      c.close();
      await lep.close();
      await limited.close();
    }
  });

  it('RFC 7959 §2.5: wakaama-client-blockwise.jsonl frames 1, 3: a Block1 Register is reassembled (2.31 then 2.01)', async () => {
    const f = frames('wakaama-client-blockwise.jsonl');
    const c = await FixtureClient.open();
    try {
      const r1 = await c.send(f.get(1)!, port);
      assert.equal(r1.code, '2.31');
      const r3 = await c.send(f.get(3)!, port);
      assert.equal(r3.code, '2.01');
      const reg = await server.getRegistration('wakaama-ep');
      assert.equal(reg?.objects.find((o) => o.id === 31024)?.instances.length, 3);
      assert.equal((await c.send(f.get(17)!, port, locationOf(r3))).code, '2.02');
    } finally {
      c.close();
    }
  });
});
