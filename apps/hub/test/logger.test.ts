import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../src/index';

function sink(): { stream: Writable; text: () => string } {
  let out = '';
  return {
    stream: new Writable({
      write(chunk, _enc, cb) {
        out += chunk;
        cb();
      },
    }),
    text: () => out,
  };
}

describe('logs', () => {
  it('JSON lines when stdout is not a terminal; pretty when it is; secrets redacted', async () => {
    const j = sink();
    createLogger('info', 'auto', false, j.stream).info({ user: 'a', password: 'hunter2' }, 'hello');
    const line = JSON.parse(j.text().trim()) as { msg: string; level: number; password: string };
    assert.equal(line.msg, 'hello');
    assert.equal(line.level, 30);
    assert.equal(line.password, '***');
    const p = sink();
    createLogger('info', 'auto', true, p.stream).info({ password: 'hunter2' }, 'hello');
    await new Promise((r) => setImmediate(r));
    assert.match(p.text(), /INFO.*hello/);
    assert.ok(!p.text().trim().startsWith('{'));
    assert.ok(!p.text().includes('hunter2'));
  });
});
