/** The message layer alone: events in, actions out, no socket and no timer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Datagram } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import { parseMessage, serializeMessage } from '../src/codec';
import { type LayerAction, MessageLayer } from '../src/message-layer';
import { DEFAULT_LIMITS, deriveParameters } from '../src/params';

const peer = { address: '10.0.0.9', port: 5683, family: 'IPv4' as const };
const dg = (data: Uint8Array): Datagram => ({ data, peer, peerKey: '10.0.0.9:5683' });
const get = (mid: number) =>
  serializeMessage({ type: 'CON', code: '0.01', messageId: mid, token: Uint8Array.of(1), options: [{ number: 11, value: Uint8Array.of(0x61) }], payload: new Uint8Array(0) });

test('RFC 7252 §4.5: a request is delivered once; its duplicate replays the recorded reply', () => {
  const layer = new MessageLayer(deriveParameters(), DEFAULT_LIMITS, new SeededRandom(1));
  const out: LayerAction[] = [];
  layer.receive(dg(get(0x10)), 0, out);
  assert.equal(out.length, 1);
  const a = out[0]!;
  assert.equal(a.t, 'request');
  if (a.t !== 'request') return;
  const out2: LayerAction[] = [];
  layer.respond(a.key, a.msg, peer, { code: '2.05', token: a.msg.token, options: [], payload: Uint8Array.of(42) }, 0, out2);
  assert.equal(out2[0]!.t, 'send');
  const reply = out2[0]!.t === 'send' ? parseMessage(out2[0]!.data) : undefined;
  assert.equal(reply?.type, 'ACK');
  assert.equal(reply?.messageId, 0x10);
  const out3: LayerAction[] = [];
  layer.receive(dg(get(0x10)), 1000, out3);
  assert.deepEqual(out3.map((x) => x.t), ['send']);
  assert.equal(layer.stats.duplicates, 1);
  // After EXCHANGE_LIFETIME the same Message ID is a new request.
  const out4: LayerAction[] = [];
  layer.receive(dg(get(0x10)), 247_001, out4);
  assert.deepEqual(out4.map((x) => x.t), ['request']);
});

test('RFC 7252 §4.2: send arms a timer; timer events retransmit, then fail; an ACK cancels the timer', () => {
  const layer = new MessageLayer(deriveParameters({ maxRetransmit: 2 }), DEFAULT_LIMITS, new SeededRandom(2));
  const out: LayerAction[] = [];
  const ex = layer.send({ type: 'CON', code: '0.01', messageId: 0, token: Uint8Array.of(5), options: [], payload: new Uint8Array(0) }, peer, 0, out, 'tag')!;
  assert.deepEqual(out.map((x) => x.t), ['timer', 'send']);
  const timer = out[0]!.t === 'timer' ? out[0]! : undefined;
  assert.ok(timer && timer.delayMs >= 2000 && timer.delayMs < 3000);
  const r1: LayerAction[] = [];
  layer.timer(timer.id, timer.delayMs, r1);
  assert.deepEqual(r1.map((x) => x.t), ['timer', 'send']);
  const t2 = r1[0]!.t === 'timer' ? r1[0]! : undefined;
  assert.equal(t2?.delayMs, timer.delayMs * 2);
  // The ACK arrives: timer cancelled, exchange acknowledged.
  const ack: LayerAction[] = [];
  layer.receive(dg(Uint8Array.of(0x60, 0, ex.messageId >> 8, ex.messageId & 0xff)), 5000, ack);
  assert.deepEqual(ack.map((x) => x.t), ['cancel', 'acked']);
  assert.equal(layer.exchangeCount, 0);
  // A late timer event for it does nothing.
  const late: LayerAction[] = [];
  layer.timer(t2!.id, 9000, late);
  assert.deepEqual(late, []);
});
