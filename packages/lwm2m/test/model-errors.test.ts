import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Lwm2mErrors } from '../src/index';

describe('model/codec error codes', () => {
  it('every Lwm2mErrors code is documented in the README with its CoAP code', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const f of Object.values(Lwm2mErrors)) {
      const row = readme.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${f.code}\``));
      assert.ok(row, `${f.code} documented`);
      if (f.definition.coap) assert.ok(row.includes(f.definition.coap), `${f.code} row names CoAP ${f.definition.coap}`);
    }
  });
});
