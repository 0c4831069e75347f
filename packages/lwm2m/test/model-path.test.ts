import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lwm2mPath } from '../src/index';
import { typedError } from './codec-helpers';

describe('Lwm2mPath', () => {
  it('LwM2M Core §7.1: parses every path level and prints it back', () => {
    const cases: [string, string][] = [
      ['/', 'root'],
      ['/3', 'object'],
      ['/3/0', 'instance'],
      ['/3/0/1', 'resource'],
      ['/3/0/7/1', 'resourceInstance'],
    ];
    for (const [s, level] of cases) {
      const p = Lwm2mPath.parse(s);
      assert.equal(p.level, level);
      assert.equal(p.toString(), s);
    }
    const p = Lwm2mPath.parse('/3303/0/5700');
    assert.deepEqual([p.objectId, p.instanceId, p.resourceId, p.resourceInstanceId], [3303, 0, 5700, undefined]);
    assert.equal(Lwm2mPath.of(3, 0, 7, 1).toString(), '/3/0/7/1');
  });
  it('LwM2M Core §7.1: bad paths are M2M_LWM2M_BAD_PATH errors', () => {
    for (const s of ['3/0', '/3/', '/a', '/3//0', '/1/2/3/4/5', '/65535', '/-1', '/01', '/3/0/1?x', `/${'1'.repeat(70)}`]) {
      assert.throws(() => Lwm2mPath.parse(s), typedError(['M2M_LWM2M_BAD_PATH']), s);
    }
  });
  it('startsWith, parent and child follow the hierarchy', () => {
    const p = Lwm2mPath.parse('/3/0/7/1');
    assert.ok(p.startsWith(Lwm2mPath.parse('/3/0')));
    assert.ok(p.startsWith(Lwm2mPath.ROOT));
    assert.ok(p.startsWith(p));
    assert.ok(!p.startsWith(Lwm2mPath.parse('/3/1')));
    assert.ok(!Lwm2mPath.parse('/3').startsWith(p));
    assert.equal(p.parent().toString(), '/3/0/7');
    assert.equal(Lwm2mPath.parse('/3').child(0).toString(), '/3/0');
    assert.ok(p.equals(Lwm2mPath.parse('/3/0/7/1')));
  });
});
