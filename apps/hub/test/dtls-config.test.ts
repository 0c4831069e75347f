/**
 * The hub's lwm2m keys that issues #4 and #6 added, as the gateway receives them: the DTLS
 * certificate files (resolved from the working directory), the DTLS limits and the cluster/dedupe timings.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '@m2mhub/dtls';
import { dtlsLimits, parseConfig } from '@m2mhub/gateway-lwm2m';
import { hubSchema, loadConfig } from '../src/config/index';
import { lwm2mGatewayConfig } from '../src/gateways';

const load = (env: Record<string, string>, argv: string[] = []) => loadConfig(hubSchema, { argv, env, cwd: '/tmp' }).config;

describe('hub config: lwm2m.dtls certificate files and cluster timings (issues #4, #6)', () => {
  it('lwm2m.dtls.certfile/keyfile/cacertfile reach the gateway as paths from the working directory; unset stays unset (PSK only)', () => {
    const c = load({ M2MHUB_LWM2M__DTLS__CERTFILE: 'pki/server.pem', M2MHUB_LWM2M__DTLS__CACERTFILE: '/etc/ca.pem' }, ['--lwm2m.dtls.keyfile', 'pki/server.key']);
    const gw = parseConfig(lwm2mGatewayConfig(c.lwm2m));
    const cwd = process.env.INIT_CWD ?? process.cwd();
    assert.equal(gw.dtls.certfile, resolve(cwd, 'pki/server.pem'));
    assert.equal(gw.dtls.keyfile, resolve(cwd, 'pki/server.key'));
    assert.equal(gw.dtls.cacertfile, '/etc/ca.pem');
    const d = parseConfig(lwm2mGatewayConfig(load({}).lwm2m));
    assert.deepEqual([d.dtls.certfile, d.dtls.keyfile, d.dtls.cacertfile], ['', '', '']);
  });

  it('a certfile without keyfile is refused naming lwm2m.dtls.keyfile', () => {
    assert.throws(() => parseConfig(lwm2mGatewayConfig(load({ M2MHUB_LWM2M__DTLS__CERTFILE: '/a.pem' }).lwm2m)), /lwm2m\.dtls\.keyfile/);
  });

  it('cluster_heartbeat, cluster_node_timeout, cluster_claim_ttl and dedupe_interval: EMQX durations passed through, defaults as the gateway', () => {
    const c = load({
      M2MHUB_LWM2M__CLUSTER_HEARTBEAT: '2s',
      M2MHUB_LWM2M__CLUSTER_NODE_TIMEOUT: '10',
      M2MHUB_LWM2M__CLUSTER_CLAIM_TTL: '2m',
      M2MHUB_LWM2M__DEDUPE_INTERVAL: '500ms',
    });
    const gw = parseConfig(lwm2mGatewayConfig(c.lwm2m));
    assert.deepEqual([gw.cluster_heartbeat, gw.cluster_node_timeout, gw.cluster_claim_ttl, gw.dedupe_interval], [2, 10, 120, 0.5]);
    const d = parseConfig(lwm2mGatewayConfig(load({}).lwm2m));
    const def = parseConfig({});
    assert.deepEqual(
      [d.cluster_heartbeat, d.cluster_node_timeout, d.cluster_claim_ttl, d.dedupe_interval, d.max_object_xml_size, d.max_user_objects],
      [def.cluster_heartbeat, def.cluster_node_timeout, def.cluster_claim_ttl, def.dedupe_interval, def.max_object_xml_size, def.max_user_objects],
    );
    assert.throws(() => load({ M2MHUB_LWM2M__CLUSTER_HEARTBEAT: 'often' }), /lwm2m\.cluster_heartbeat = "often"/);
    // The gateway checks the pair: a node timeout must be longer than the heartbeat.
    assert.throws(() => parseConfig(lwm2mGatewayConfig(load({ M2MHUB_LWM2M__CLUSTER_NODE_TIMEOUT: '3s' }).lwm2m)), /lwm2m\.cluster_node_timeout/);
  });

  it('lwm2m.dtls.max_handshakes/max_sessions/handshake_timeout/idle_timeout reach the gateway with their values; defaults are the DTLS ones (issue #4)', () => {
    const c = load({ M2MHUB_LWM2M__DTLS__MAX_HANDSHAKES: '5', M2MHUB_LWM2M__DTLS__HANDSHAKE_TIMEOUT: '10s' }, [
      '--lwm2m.dtls.max_sessions',
      '200',
      '--lwm2m.dtls.idle_timeout',
      '2h',
    ]);
    const gw = parseConfig(lwm2mGatewayConfig(c.lwm2m));
    assert.deepEqual([gw.dtls.max_handshakes, gw.dtls.max_sessions, gw.dtls.handshake_timeout, gw.dtls.idle_timeout], [5, 200, 10, 7200]);
    assert.deepEqual(dtlsLimits(gw.dtls), { maxHandshakes: 5, maxSessions: 200, handshakeTimeoutMs: 10_000, idleTimeoutMs: 7_200_000 });
    const d = parseConfig(lwm2mGatewayConfig(load({}).lwm2m)).dtls;
    assert.deepEqual(dtlsLimits(d), {
      maxHandshakes: DEFAULT_LIMITS.maxHandshakes,
      maxSessions: DEFAULT_LIMITS.maxSessions,
      handshakeTimeoutMs: DEFAULT_LIMITS.handshakeTimeoutMs,
      idleTimeoutMs: DEFAULT_LIMITS.idleTimeoutMs,
    });
  });

  it('a bad DTLS limit is one line naming its key (issue #4)', () => {
    const oneLine = (fn: () => unknown, key: RegExp) =>
      assert.throws(fn, (err: Error) => {
        assert.match(err.message, key);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    oneLine(() => load({ M2MHUB_LWM2M__DTLS__MAX_HANDSHAKES: 'many' }), /lwm2m\.dtls\.max_handshakes = "many"/);
    oneLine(() => load({ M2MHUB_LWM2M__DTLS__MAX_SESSIONS: '0' }), /lwm2m\.dtls\.max_sessions/);
    oneLine(() => load({}, ['--lwm2m.dtls.handshake_timeout', 'soon']), /lwm2m\.dtls\.handshake_timeout = "soon"/);
    // In range for the hub's duration syntax but not for the gateway: the gateway names the key.
    oneLine(() => parseConfig(lwm2mGatewayConfig(load({ M2MHUB_LWM2M__DTLS__IDLE_TIMEOUT: '0s' }).lwm2m)), /lwm2m\.dtls\.idle_timeout/);
  });
});
