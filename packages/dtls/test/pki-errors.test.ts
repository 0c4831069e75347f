import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listErrors } from '@m2mhub/core';
import { PkiAlert, PkiErrors } from '../src/pki/index';

test('RFC 5246 §7.2: every M2M_DTLS_PKI_* code is registered once and maps to a TLS alert (or HTTP for config errors)', () => {
  const registered = new Map(listErrors().map((d) => [d.code, d]));
  const alerts = new Set<number>(Object.values(PkiAlert));
  const codes = new Set<string>();
  for (const factory of Object.values(PkiErrors)) {
    assert.match(factory.code, /^M2M_DTLS_PKI_[A-Z_]+$/);
    assert.ok(!codes.has(factory.code), `duplicate ${factory.code}`);
    codes.add(factory.code);
    assert.ok(registered.has(factory.code));
    const def = factory.definition;
    if (def.alert !== undefined) assert.ok(alerts.has(def.alert), `${def.code} -> ${def.alert}`);
    else assert.equal(def.code, 'M2M_DTLS_PKI_BAD_KEY');
  }
  // The alerts the brief names, by number (RFC 5246 §7.2.2).
  assert.deepEqual(
    [PkiErrors.badCertificate, PkiErrors.unsupportedCertificate, PkiErrors.certificateExpired, PkiErrors.unknownCa,
      PkiErrors.decode, PkiErrors.signature, PkiErrors.illegalParameter, PkiErrors.noCommonParameters].map((f) => f.definition.alert),
    [42, 43, 45, 48, 50, 51, 47, 40],
  );
});
