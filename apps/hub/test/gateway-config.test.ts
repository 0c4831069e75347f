/** The hub's lwm2m section with EMQX's keys, from the environment as a user writes them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hubSchema, loadConfig } from '../src/config/index';
import { lwm2mGatewayConfig } from '../src/gateways';
import { parseConfig } from '@m2mhub/gateway-lwm2m';

const ph = (name: string) => `$${'{'}${name}}`;
const load = (env: Record<string, string>, argv: string[] = []) => loadConfig(hubSchema, { argv, env, cwd: '/tmp' }).config;

describe('hub config: lwm2m gateway keys (EMQX names)', () => {
  it('durations as EMQX strings, topic templates with placeholders, auto_observe as a list, from the environment and flags', () => {
    // Regression: these fields parsed environment strings as JSON, so "22s" and a mountpoint
    // with a placeholder stopped start-up as invalid.
    const c = load({
      M2MHUB_LWM2M__QMODE_TIME_WINDOW: '22s',
      M2MHUB_LWM2M__LIFETIME_MAX: '3600',
      M2MHUB_LWM2M__MOUNTPOINT: `lwm2m/${ph('endpoint_name')}/`,
      M2MHUB_LWM2M__TRANSLATORS__COMMAND__TOPIC: 'dn/#',
      M2MHUB_LWM2M__AUTO_OBSERVE: '/3/0,/5/0',
    });
    assert.equal(c.lwm2m.qmode_time_window, 22);
    assert.equal(c.lwm2m.lifetime_max, 3600);
    assert.equal(c.lwm2m.mountpoint, `lwm2m/${ph('endpoint_name')}/`);
    assert.deepEqual(c.lwm2m.auto_observe, ['/3/0', '/5/0']);
    assert.equal(load({}, ['--lwm2m.auto_observe', 'false']).lwm2m.auto_observe, false);
    // what the gateway receives parses with the gateway's own validation
    const gw = parseConfig(lwm2mGatewayConfig(c.lwm2m));
    assert.equal(gw.translators.command.topic, 'dn/#');
    assert.equal(gw.udp.port, 5783);
    assert.equal(gw.dtls.port, 5784);
    assert.equal(gw.qmode_time_window, 22);
    const d = parseConfig(lwm2mGatewayConfig(load({}).lwm2m));
    assert.equal(d.translators.command.topic, `dn/${ph('endpoint_name')}/#`);
    assert.equal(d.qmode_time_window, 93);
    assert.equal(d.auto_observe, true);
  });

  it('a bad value stops start-up with one line naming the key, the value and what is allowed', () => {
    assert.throws(() => load({ M2MHUB_LWM2M__QMODE_TIME_WINDOW: 'soon' }), /lwm2m\.qmode_time_window = "soon".*duration/);
    assert.throws(() => load({ M2MHUB_LWM2M__MOUNTPOINT: `a/${ph('nope')}/` }), /lwm2m\.mountpoint/);
    assert.throws(() => load({ M2MHUB_LWM2M__TRANSLATORS__RESPONSE__TOPIC: 'up/#' }), /without wildcards/);
    assert.throws(() => load({ M2MHUB_LWM2M__UPDATE_MSG_PUBLISH_CONDITION: 'never' }), /contains_object_list/);
  });
});
