import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '@m2mhub/core';
import { createObjectRegistry } from '@m2mhub/lwm2m';
import { createMemoryStore } from '@m2mhub/store';
import { ObjectCatalog } from '../src/objects';

function xml(id: number, name: string, version = '1.0', type = 'Float'): string {
  return `<LWM2M><Object ObjectType="MODefinition"><Name>${name}</Name><ObjectID>${id}</ObjectID><ObjectVersion>${version}</ObjectVersion>
<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory><Resources>
<Item ID="1"><Name>Value</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory><Type>${type}</Type></Item>
</Resources></Object></LWM2M>`;
}

const limits = { maxXmlBytes: 64 * 1024, maxUserObjects: 3 };

async function openKv() {
  const store = createMemoryStore();
  await store.open();
  return store.kv('objects');
}

async function catalog(kvIn?: Awaited<ReturnType<typeof openKv>>, xmlDir = '') {
  const kv = kvIn ?? (await openKv());
  const { registry } = createObjectRegistry({});
  return { registry, kv, cat: new ObjectCatalog(registry, kv, xmlDir, limits, silentLogger) };
}

describe('ObjectCatalog (issue #5)', () => {
  it('LwM2M Core Appendix D: an upload is live in the registry at once and read back from the store by a new catalog', async () => {
    const { registry, kv, cat } = await catalog();
    assert.equal(registry.getObject(32769), undefined);
    const added = await cat.upload(xml(32769, 'Vendor'));
    assert.deepEqual(added.map((o) => [o.id, o.version]), [[32769, '1.0']]);
    assert.equal(registry.getResource(32769, 1)?.type, 'float');
    const again = await catalog(kv);
    await again.cat.loadStored();
    assert.equal(again.registry.getObject(32769)?.name, 'Vendor');
    assert.deepEqual(again.cat.list().find((o) => o.id === 32769), { id: 32769, name: 'Vendor', version: '1.0', versions: ['1.0'], source: 'user', origin: 'api' });
  });

  it('a user definition of a built-in id wins; removing it brings the built-in back', async () => {
    const { registry, cat } = await catalog();
    const builtin = registry.getObject(3303)!;
    await cat.upload(xml(3303, 'My Temperature', builtin.version, 'String'));
    assert.equal(registry.getObject(3303)?.name, 'My Temperature');
    assert.equal(cat.get(3303)?.source, 'user');
    assert.equal(await cat.remove(3303), true);
    assert.equal(registry.getObject(3303)?.name, builtin.name);
    assert.equal(cat.get(3303)?.source, 'builtin');
    assert.equal(await cat.remove(3303), false, 'a built-in is not a user object');
  });

  it('limits: max_user_objects and max_object_xml_size refuse with M2M_LWGW_BAD_OBJECT; a broken XML with the parser error', async () => {
    const { cat } = await catalog();
    for (const id of [40000, 40001, 40002]) await cat.upload(xml(id, `o${id}`));
    await cat.upload(xml(40000, 'replaced')); // replacing an id/version does not count twice
    await assert.rejects(cat.upload(xml(40003, 'one too many')), (e: Error & { code?: string }) => e.code === 'M2M_LWGW_BAD_OBJECT');
    await assert.rejects(cat.upload(`<!--${'x'.repeat(limits.maxXmlBytes)}-->`), (e: Error & { code?: string }) => e.code === 'M2M_LWGW_BAD_OBJECT');
    await assert.rejects(cat.upload('<LWM2M><Object>'), (e: Error & { code?: string }) => e.code === 'M2M_LWM2M_BAD_OBJECT_XML');
  });

  it('reloadDir: files added are loaded, files removed are dropped, broken files listed; uploads stay on top', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-objects-'));
    writeFileSync(join(dir, 'a.xml'), xml(41000, 'A'));
    const { registry, cat } = await catalog(undefined, dir);
    assert.deepEqual(cat.reloadDir(), { loaded: 1, errors: [] });
    assert.equal(registry.getObject(41000)?.name, 'A');
    await cat.upload(xml(41000, 'A uploaded'));
    writeFileSync(join(dir, 'a.xml'), xml(41001, 'B'));
    writeFileSync(join(dir, 'bad.xml'), 'not xml at all <');
    const r = cat.reloadDir();
    assert.equal(r.loaded, 1);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!.file, /bad\.xml$/);
    assert.equal(registry.getObject(41000)?.name, 'A uploaded', 'the upload is not dropped by a reload');
    assert.equal(registry.getObject(41001)?.name, 'B');
  });

  it('a configured xml_dir that cannot be read stops start-up with one line naming lwm2m.xml_dir', () => {
    assert.throws(() => ObjectCatalog.checkDir('/nonexistent/m2mhub-objects'), (e: Error & { code?: string }) => e.code === 'M2M_LWGW_BAD_CONFIG' && /lwm2m\.xml_dir=.*ENOENT/.test(e.message));
    ObjectCatalog.checkDir('');
    ObjectCatalog.checkDir(tmpdir());
  });

  it('fuzz: random bytes as an upload are refused with a typed error, never a crash or a registry change', async () => {
    const { registry, cat } = await catalog();
    const size = registry.size;
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const base = xml(42000, 'Fuzz');
    for (let i = 0; i < 300; i++) {
      const chars = [...base];
      for (let k = 0; k < 1 + (rnd() % 8); k++) chars[rnd() % chars.length] = String.fromCharCode(rnd() % 128);
      const text = i % 3 === 0 ? chars.join('') : chars.slice(0, rnd() % chars.length).join('');
      try {
        await cat.upload(text);
        await cat.remove(42000);
      } catch (e) {
        assert.ok(['M2M_LWM2M_BAD_OBJECT_XML', 'M2M_LWGW_BAD_OBJECT'].includes((e as { code?: string }).code ?? ''), String(e));
      }
    }
    for (const o of cat.list()) if (o.source === 'user') await cat.remove(o.id);
    assert.equal(registry.size, size);
  });
});
