import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { errorCatalogue, errorTableRow } from '../src/error-docs';

test('every M2M_* error code of every package is documented in docs/errors.md with its wire mappings', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const defs = errorCatalogue();
  assert.ok(defs.length > 50, `only ${defs.length} codes registered: a package's errors were not loaded`);
  const missing = defs.filter((d) => !doc.includes(errorTableRow(d)));
  assert.deepEqual(
    missing.map((d) => d.code),
    [],
    'regenerate: pnpm --filter @m2mhub/hub error-docs > docs/errors.md',
  );
  for (const d of defs) assert.match(d.code, /^M2M_[A-Z0-9]+_[A-Z0-9_]+$/);
});
