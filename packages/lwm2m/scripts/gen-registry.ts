/**
 * Generates the built-in object table `src/registry/generated/objects.json` (+ `NOTICE`) from
 * the OMNA LwM2M registry XML files: default `../shared/lwm2m-registry/` relative to the repo
 * root, or the directory given as first argument. `--check` compares instead of writing
 * (exit 1 when the committed files are stale). Run: `pnpm --filter @m2mhub/lwm2m gen-registry`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRegistry } from '../src/registry/generate';

const args = process.argv.slice(2);
const check = args.includes('--check');
const pkgDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const repoRoot = resolve(pkgDir, '../..');
const srcDir = resolve(args.find((a) => !a.startsWith('--')) ?? join(repoRoot, '../shared/lwm2m-registry'));
const outDir = join(pkgDir, 'src/registry/generated');

const g = generateRegistry(srcDir);
const jsonFile = join(outDir, 'objects.json');
const noticeFile = join(outDir, 'NOTICE');
if (check) {
  const same = readFileSync(jsonFile, 'utf8') === g.json && readFileSync(noticeFile, 'utf8') === g.notice;
  console.log(same ? 'generated registry is up to date' : 'generated registry is STALE: run gen-registry');
  process.exit(same ? 0 : 1);
}
writeFileSync(jsonFile, g.json);
writeFileSync(noticeFile, g.notice);
console.log(`wrote ${g.objects.length} object definitions (${g.json.length} bytes) to ${relative(process.cwd(), outDir)}`);
console.log(`skipped ${g.skipped.length} file(s):`);
for (const s of g.skipped) console.log(`  ${s.file}: ${s.reason}`);
