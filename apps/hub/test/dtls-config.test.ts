/**
 * The hub's lwm2m keys that issues #4 and #6 added, as the gateway receives them: the DTLS
 * certificate files (resolved from the working directory) and the cluster/dedupe timings.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '@m2mhub/gateway-lwm2m';
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
});
