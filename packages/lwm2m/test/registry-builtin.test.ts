import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { builtinObjects } from '../src/index';
import { generateRegistry } from '../src/registry/generate';
import { REGISTRY_XML, builtinRegistry } from './codec-helpers';

describe('built-in object registry (generated)', () => {
  it('holds the licensed OMNA objects with their facts', () => {
    const objs = builtinObjects();
    assert.equal(objs.length, 321);
    const r = builtinRegistry();
    for (const id of [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 3303, 3313, 3347]) assert.ok(r.getObject(id), `object ${id}`);
    assert.equal(r.getObject(3303)?.name, 'Temperature');
    assert.deepEqual(r.getResource(3303, 5700), {
      id: 5700,
      name: 'Sensor Value',
      operations: 'R',
      multiple: false,
      mandatory: true,
      type: 'float',
    });
    assert.equal(r.getResource(3, 9)?.rangeEnumeration, '0..100');
    assert.equal(r.getResource(3, 9)?.units, '/100');
    assert.equal(r.getResource(1, 1)?.units, 's');
    assert.equal(r.getResource(2, 2)?.multiple, true);
    // 10244.xml has no licence header: skipped by the generator.
    assert.equal(r.getObject(10244), undefined);
  });
  it('the generated data carries the BSD-3 notice', () => {
    const notice = readFileSync(new URL('../src/registry/generated/NOTICE', import.meta.url), 'utf8');
    assert.match(notice, /Redistribution and use in source and binary forms/);
    assert.match(notice, /Open Mobile Alliance/);
    const json = JSON.parse(readFileSync(new URL('../src/registry/generated/objects.json', import.meta.url), 'utf8'));
    assert.equal(json.notice, notice.trimEnd());
  });
  it('the committed objects.json is what the generator makes from the registry XML (not stale), skipping unlicensed files', () => {
    const g = generateRegistry(REGISTRY_XML);
    assert.equal(g.json, readFileSync(new URL('../src/registry/generated/objects.json', import.meta.url), 'utf8'));
    assert.equal(g.notice, readFileSync(new URL('../src/registry/generated/NOTICE', import.meta.url), 'utf8'));
    assert.deepEqual(
      g.skipped.map((s) => s.file),
      ['3443.xml', '10244.xml', '10254.xml', '10258.xml', '10309.xml', '10314.xml', 'Common.xml', 'DDF.xml', 'LWM2M_senml_units.xml'],
    );
    assert.ok(g.skipped.every((s) => s.reason === 'no licence header'));
  });
});
