/**
 * Benchmark dispatcher: `pnpm bench <name> [args]` runs `src/benches/<name>.ts`, whose default
 * export is `(args: string[]) => Promise<BenchReport>`. Each bench runs its peer (Mosquitto,
 * libcoap's coap-server-openssl) in the same invocation and reports the ratio.
 * Results are printed as JSON and written to bench-results/<name>.json.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from './report';

const dir = fileURLToPath(new URL('./benches/', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: pnpm bench <${available.join('|')}> [args]`);
  process.exit(2);
}
const mod = (await import(join(dir, `${name}.ts`))) as { default: (args: string[]) => Promise<BenchReport> };
const report = await mod.default(args);
const outDir = join(process.cwd(), 'bench-results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
process.exit(0);
