/** The deduplication table alone (RFC 7252 §4.5): time is passed in, no timer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DedupTable } from '../src/dedup';

const LIFE = 247_000;

test('RFC 7252 §4.5: a Message ID from the same peer within the lifetime is a duplicate; from another peer it is not', () => {
  const t = new DedupTable(100);
  const a = t.open('10.0.0.1:5683', 7, 0, LIFE);
  assert.equal(t.hits(a), 0);
  t.setReply(a, Uint8Array.of(1));
  const dup = t.open('10.0.0.1:5683', 7, LIFE - 1, LIFE);
  assert.equal(dup, a);
  assert.equal(t.hits(dup), 1);
  assert.deepEqual(t.reply(dup), Uint8Array.of(1));
  assert.equal(t.hits(t.open('10.0.0.1:5684', 7, 10, LIFE)), 0);
  assert.equal(t.hits(t.open('10.0.0.2:5683', 7, 10, LIFE)), 0);
  assert.equal(t.size, 3);
});

test('RFC 7252 §4.5: after EXCHANGE_LIFETIME the same Message ID is a new message and the old entry is evicted', () => {
  const t = new DedupTable(100);
  const a = t.open('p', 1, 0, LIFE);
  t.setEmptyAcked(a);
  const b = t.open('p', 1, LIFE, LIFE);
  assert.notEqual(a, b);
  assert.equal(t.hits(b), 0);
  assert.equal(t.emptyAcked(b), false);
  // The expired entry left the table when b was inserted; its key is stale, b is still found.
  assert.equal(t.size, 1);
  assert.equal(t.emptyAcked(a), false);
  t.setReply(a, Uint8Array.of(9));
  assert.equal(t.reply(a), undefined);
  assert.equal(t.open('p', 1, LIFE + 5, LIFE), b);
});

test('RFC 7252 §4.5: entries expire by age, not by use (a duplicate does not extend the lifetime)', () => {
  const t = new DedupTable(100);
  const a = t.open('p', 1, 0, 1000);
  t.open('p', 1, 999, 1000);
  assert.equal(t.hits(a), 1);
  assert.notEqual(t.open('p', 1, 1000, 1000), a);
});

test('the table never holds more than its capacity: the oldest entry goes first (ring growth and hash deletions keep every live entry findable)', () => {
  const t = new DedupTable(3000);
  for (let i = 0; i < 10_000; i++) t.open(`peer${i % 7}`, i & 0xffff, 0, LIFE);
  assert.equal(t.size, 3000);
  // The newest 3000 are all still known (duplicates), in any order.
  for (let i = 9_999; i >= 7_000; i--) assert.equal(t.hits(t.open(`peer${i % 7}`, i, 1, LIFE)), 1, `entry ${i}`);
  // The one before them is not (and opening it evicts the oldest, 7000).
  assert.equal(t.hits(t.open(`peer${6999 % 7}`, 6999, 1, LIFE)), 0);
  assert.equal(t.hits(t.open(`peer${7000 % 7}`, 7000, 1, LIFE)), 0);
  assert.equal(t.size, 3000);
});

test('a random mix of peers, Message IDs and lifetimes agrees with a plain Map model', () => {
  const t = new DedupTable(500);
  const model = new Map<string, { expiresAt: number; seq: number }>();
  const order: string[] = [];
  let seed = 42;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let now = 0;
  for (let i = 0; i < 50_000; i++) {
    now += rnd(3);
    const peer = `p${rnd(40)}`;
    const mid = rnd(300);
    const life = rnd(2) ? 2000 : 1000;
    const k = `${peer}#${mid}`;
    const m = model.get(k);
    const dup = m !== undefined && m.expiresAt > now;
    if (!dup) {
      // The model's eviction: arrival order, expired or over capacity.
      while (order.length > 0) {
        const head = order[0]!;
        const [hk, hexp] = [head.slice(0, head.lastIndexOf('@')), Number(head.slice(head.lastIndexOf('@') + 1))];
        if (order.length < 500 && hexp > now) break;
        order.shift();
        if (model.get(hk)?.expiresAt === hexp) model.delete(hk);
      }
      model.set(k, { expiresAt: now + life, seq: i });
      order.push(`${k}@${now + life}`);
    }
    const key = t.open(peer, mid, now, life);
    assert.equal(t.hits(key) > 0, dup, `step ${i}`);
    if (dup) t.hits(key);
    assert.equal(t.size, order.length, `size at step ${i}`);
  }
});

test('clear forgets everything; a capacity below 1 is refused', () => {
  const t = new DedupTable(10);
  const a = t.open('p', 1, 0, LIFE);
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.hits(a), 0);
  assert.equal(t.hits(t.open('p', 1, 1, LIFE)), 0);
  assert.throws(() => new DedupTable(0), RangeError);
});

test('RFC 7252 §4.4: peers counting Message IDs up (wrapping at 65535) stay findable while the oldest are evicted', () => {
  // Sequential MIDs share bucket runs (hash of MID / 8): runs of different peers must not hide entries.
  const t = new DedupTable(5000);
  const peers = 16;
  for (let i = 0; i < 200_000; i++) t.open(`10.0.0.1:${40000 + (i % peers)}`, (60_000 + Math.floor(i / peers)) & 0xffff, 0, LIFE);
  assert.equal(t.size, 5000);
  for (let i = 199_999; i >= 195_000; i--) {
    assert.equal(t.hits(t.open(`10.0.0.1:${40000 + (i % peers)}`, (60_000 + Math.floor(i / peers)) & 0xffff, 1, LIFE)), 1, `request ${i}`);
  }
});
