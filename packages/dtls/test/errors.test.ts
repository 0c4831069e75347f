import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DtlsErrors } from '../src/errors';

test('RFC 5246 §7.2: every M2M_DTLS_* code is documented in the README with its alert', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const f of Object.values(DtlsErrors)) {
    assert.match(f.code, /^M2M_DTLS_[A-Z_]+$/);
    const row = readme.split('\n').find((l) => l.includes(`\`${f.code}\``));
    assert.ok(row, `${f.code} missing from README`);
    if (f.definition.alert !== undefined) assert.ok(row.includes(`(${f.definition.alert})`), `${f.code} alert ${f.definition.alert}`);
  }
});
