import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isM2MError } from '@m2mhub/core';
import { SeededRandom } from '@m2mhub/core/testing';
import { ObjectRegistry, createObjectRegistry, loadObjectsFromDir, parseObjectXml } from '../src/index';
import { REGISTRY_XML, typedError } from './codec-helpers';

const DEVICE_1_0 = `<?xml version="1.0" encoding="utf-8"?>
<LWM2M><Object ObjectType="MODefinition"><Name>Device</Name><ObjectID>3</ObjectID>
<ObjectURN>urn:oma:lwm2m:oma:3</ObjectURN><LWM2MVersion>1.0</LWM2MVersion><ObjectVersion>1.0</ObjectVersion>
<MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory><Resources>
<Item ID="0"><Name>Manufacturer</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances>
<Mandatory>Optional</Mandatory><Type>String</Type><RangeEnumeration></RangeEnumeration><Units></Units><Description>x</Description></Item>
<Item ID="9"><Name>Battery Level</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances>
<Mandatory>Optional</Mandatory><Type>Integer</Type><RangeEnumeration>0..100</RangeEnumeration><Units>%</Units></Item>
</Resources></Object></LWM2M>`;

describe('OMA object XML loader', () => {
  it('LwM2M Core Appendix D: every file of the OMNA registry parses, or is reported with its file name', () => {
    const files = readdirSync(REGISTRY_XML).filter((f) => f.endsWith('.xml'));
    const { objects, errors } = loadObjectsFromDir(REGISTRY_XML);
    // 330 XML files: 327 object definitions, and Common.xml, DDF.xml, LWM2M_senml_units.xml which are not objects.
    assert.equal(files.length, 330);
    assert.equal(objects.length, 327);
    assert.deepEqual(
      errors.map((e) => e.file.split('/').pop()),
      ['Common.xml', 'DDF.xml', 'LWM2M_senml_units.xml'],
    );
    for (const e of errors) assert.match(e.error.message, new RegExp(e.file.split('/').pop() as string));
  });
  it('parses the Device object facts (3.xml v1.2)', () => {
    const [dev] = parseObjectXml(readFileSync(join(REGISTRY_XML, '3.xml'), 'utf8'), '3.xml');
    assert.ok(dev);
    assert.equal(dev.id, 3);
    assert.equal(dev.name, 'Device');
    assert.equal(dev.version, '1.2');
    assert.equal(dev.multiple, false);
    assert.equal(dev.mandatory, true);
    assert.equal(dev.urn, 'urn:oma:lwm2m:oma:3:1.2');
    assert.deepEqual(
      { ...dev.resources.get(7), description: undefined },
      { id: 7, name: 'Power Source Voltage', operations: 'R', multiple: true, mandatory: false, type: 'integer', description: undefined },
    );
    assert.equal(dev.resources.get(4)?.type, 'none');
    assert.equal(dev.resources.get(4)?.operations, 'E');
    assert.equal(dev.resources.get(13)?.type, 'time');
  });
  it('a broken XML file is a clear M2M_LWM2M_BAD_OBJECT_XML error naming the file', () => {
    const bad = [
      '<LWM2M><Object><Name>x</Name>',
      '<notlwm2m/>',
      DEVICE_1_0.replace('<Type>Integer</Type>', '<Type>Complex</Type>'),
      DEVICE_1_0.replace('<ObjectID>3</ObjectID>', '<ObjectID>abc</ObjectID>'),
      DEVICE_1_0.replace('<Operations>R</Operations>', '<Operations>RX</Operations>'),
      DEVICE_1_0.replace('Item ID="9"', 'Item ID="0"'),
    ];
    for (const xml of bad) {
      assert.throws(
        () => parseObjectXml(xml, 'custom/broken.xml'),
        (e: unknown) => typedError(['M2M_LWM2M_BAD_OBJECT_XML'])(e) && /custom\/broken\.xml/.test((e as Error).message),
      );
    }
    assert.throws(() => parseObjectXml('<a/>'.repeat(100), 'big.xml', { maxXmlBytes: 100 }), typedError(['M2M_LWM2M_BAD_OBJECT_XML']));
  });
  it('lwm2m.xml_dir: user objects load over the built-ins, broken files are reported not fatal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2mhub-xml-'));
    try {
      writeFileSync(join(dir, '3-1_0.xml'), DEVICE_1_0);
      writeFileSync(join(dir, 'custom.xml'), DEVICE_1_0.replace(/<ObjectID>3</, '<ObjectID>40001<').replace('Device', 'Custom'));
      writeFileSync(join(dir, 'broken.xml'), '<LWM2M><Object>');
      const { registry, errors } = createObjectRegistry({ xmlDir: dir });
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.error.message ?? '', /broken\.xml/);
      assert.equal(registry.getObject(40001)?.name, 'Custom');
      assert.ok((registry.getObject(3303)?.resources.size ?? 0) > 5);
      // LwM2M Core §7.2.2: `</3>;ver=1.0` selects the 1.0 definition; without a version the latest (1.2).
      assert.deepEqual(registry.versions(3), ['1.0', '1.2']);
      assert.equal(registry.getObject(3)?.version, '1.2');
      assert.equal(registry.getObject(3, '1.0')?.version, '1.0');
      assert.equal(registry.getObject(3, '1.1')?.version, '1.0');
      assert.equal(registry.getResource(3, 9, '1.0')?.units, '%');
      assert.equal(registry.getResource(3, 21, '1.0'), undefined);
      assert.equal(registry.getResource(3, 21)?.name, 'Memory Total');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('ObjectRegistry adds and removes user objects at runtime', () => {
    const r = new ObjectRegistry();
    const [dev] = parseObjectXml(DEVICE_1_0);
    assert.ok(dev);
    r.add(dev);
    assert.equal(r.getObject(3)?.name, 'Device');
    assert.equal(r.size, 1);
    assert.ok(r.remove(3, '1.0'));
    assert.equal(r.getObject(3), undefined);
  });
  it('fuzz: 3,000 mutated object XML files give objects or typed errors, never crashes', () => {
    const r = new SeededRandom(42);
    const seed = DEVICE_1_0;
    const pieces = ['<', '>', '/', '"', '&amp;', '<!DOCTYPE x [<!ENTITY a "aaaa">]>', '&a;', '<Item ID="1">', '</Item>', '<Resources>', '</Object>', 'Multiple', '<![CDATA[', ']]>'];
    let ok = 0;
    for (let i = 0; i < 3000; i++) {
      let x = seed;
      for (let k = 0; k < 1 + r.int(3); k++) {
        const at = r.int(x.length);
        const op = r.int(3);
        if (op === 0) x = x.slice(0, at) + x.slice(at + 1 + r.int(20));
        else if (op === 1) x = x.slice(0, at) + (pieces[r.int(pieces.length)] as string) + x.slice(at);
        else x = x.slice(0, at);
      }
      try {
        parseObjectXml(x, 'fuzz.xml');
        ok++;
      } catch (e) {
        if (!isM2MError(e)) throw new Error(`non-typed error ${String(e)} for ${JSON.stringify(x)}`);
      }
    }
    assert.ok(ok > 0);
  });
});
