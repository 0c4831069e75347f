/**
 * Issue #4: the DTLS limits as `lwm2m.dtls` keys (max_handshakes, max_sessions,
 * handshake_timeout, idle_timeout), validated with a one-line error naming the key, and handed
 * to the real DTLS transport the gateway starts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS, type DtlsTransport } from '@m2mhub/dtls';
import { defaultDtlsTransport, dtlsLimits, parseConfig } from '../src/index';
import { Harness } from './harness';

const oneLine = (fn: () => unknown, key: RegExp) =>
  assert.throws(fn, (err: Error) => {
    assert.match(err.message, key);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });

describe('lwm2m.dtls limits (issue #4)', () => {
  it('defaults are the @m2mhub/dtls ones; integers and EMQX durations are accepted', () => {
    const d = parseConfig({}).dtls;
    assert.deepEqual(dtlsLimits(d), {
      maxHandshakes: DEFAULT_LIMITS.maxHandshakes,
      maxSessions: DEFAULT_LIMITS.maxSessions,
      handshakeTimeoutMs: DEFAULT_LIMITS.handshakeTimeoutMs,
      idleTimeoutMs: DEFAULT_LIMITS.idleTimeoutMs,
    });
    const c = parseConfig({ dtls: { max_handshakes: '3', max_sessions: 9, handshake_timeout: '1500ms', idle_timeout: '1d' } }).dtls;
    assert.deepEqual(dtlsLimits(c), { maxHandshakes: 3, maxSessions: 9, handshakeTimeoutMs: 1500, idleTimeoutMs: 86_400_000 });
  });

  it('a bad or out-of-range limit is one line naming its key; the UDP listener has no such keys', () => {
    oneLine(() => parseConfig({ dtls: { max_handshakes: 0 } }), /lwm2m\.dtls\.max_handshakes=0/);
    oneLine(() => parseConfig({ dtls: { max_sessions: 1.5 } }), /lwm2m\.dtls\.max_sessions=1\.5/);
    oneLine(() => parseConfig({ dtls: { handshake_timeout: 'later' } }), /lwm2m\.dtls\.handshake_timeout="later"/);
    oneLine(() => parseConfig({ dtls: { handshake_timeout: '2h' } }), /lwm2m\.dtls\.handshake_timeout="2h": a duration from 1 s to 3600 s/);
    oneLine(() => parseConfig({ dtls: { idle_timeout: 0 } }), /lwm2m\.dtls\.idle_timeout=0/);
    oneLine(() => parseConfig({ udp: { max_sessions: 5 } }), /lwm2m\.udp\.max_sessions=5: unknown key/);
  });

  it('the DTLS transport the gateway starts carries the configured limits (its DtlsServer resolves them)', async () => {
    const built: DtlsTransport[] = [];
    const h = await Harness.start(
      { dtls: { enable: true, bind: '127.0.0.1', port: 0, max_handshakes: 1, max_sessions: 42, handshake_timeout: '5s', idle_timeout: '10m' } },
      {
        dtlsTransport: (spec) => {
          const t = defaultDtlsTransport(spec);
          built.push(t);
          return t;
        },
      },
    );
    try {
      assert.equal(built.length, 1);
      const limits = built[0]?.server.limits;
      assert.ok(limits);
      assert.deepEqual(
        [limits.maxHandshakes, limits.maxSessions, limits.handshakeTimeoutMs, limits.idleTimeoutMs],
        [1, 42, 5000, 600_000],
      );
      // The other limits keep the DTLS defaults.
      assert.equal(limits.mtu, DEFAULT_LIMITS.mtu);
    } finally {
      await h.close();
    }
  });
});
