#!/usr/bin/env node
// Runs every test file (`*.test.ts` under packages/*/test and apps/*/test) with Node's own
// test runner and tsx, or only those under the directories given as arguments.
// Env: M2MHUB_TEST_CONCURRENCY (default 3), M2MHUB_TEST_FILTER (substring of the path).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { walk } from './lib/walk.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const cwd = process.cwd();
const roots = process.argv.slice(2).length
  ? process.argv.slice(2).map((d) => resolve(cwd, d))
  : ['packages', 'apps'].flatMap((d) => readdirSync(join(root, d)).map((p) => join(root, d, p)));


const filter = process.env.M2MHUB_TEST_FILTER ?? '';
const files = roots
  .flatMap((r) => walk(join(r, 'test'), (e) => e.endsWith('.test.ts')))
  .filter((f) => f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = process.env.M2MHUB_TEST_CONCURRENCY ?? '3';
const args = [
  '--conditions=m2mhub-source',
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-timeout=120000',
  ...files.map((f) => relative(root, f)),
];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
