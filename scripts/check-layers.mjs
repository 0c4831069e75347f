#!/usr/bin/env node
// Fails on an import against the layer order of DESIGN.md §2 or an import cycle between
// source files. Layers (lower may not import higher):
//   core < coap < dtls < lwm2m < simulator < broker < store < gateway < gateway-lwm2m < admin-api < apps
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { walk } from './lib/walk.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const LAYERS = ['core', 'coap', 'dtls', 'lwm2m', 'simulator', 'broker', 'store', 'gateway', 'gateway-lwm2m', 'admin-api'];
const APP_LAYER = LAYERS.length;
const layerOf = (pkg) => (LAYERS.includes(pkg) ? LAYERS.indexOf(pkg) : APP_LAYER);

const units = [
  ...readdirSync(join(root, 'packages')).map((n) => ({ name: n, dir: join(root, 'packages', n), app: false })),
  ...readdirSync(join(root, 'apps')).map((n) => ({ name: n, dir: join(root, 'apps', n), app: true })),
];

const isSource = (e) => /\.(ts|tsx|mts)$/.test(e) && !e.endsWith('.d.ts');

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;
const errors = [];
const graph = new Map();

for (const u of units) {
  const myLayer = u.app ? APP_LAYER : layerOf(u.name);
  for (const file of walk(join(u.dir, 'src'), isSource).concat(walk(join(u.dir, 'test'), isSource))) {
    const src = readFileSync(file, 'utf8');
    const deps = [];
    for (const m of src.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec) continue;
      const pm = /^@m2mhub\/([a-z0-9-]+)/.exec(spec);
      if (pm) {
        const target = pm[1];
        if (!units.some((x) => x.name === target && !x.app)) {
          errors.push(`${relative(root, file)}: imports unknown package ${spec}`);
        } else if (layerOf(target) >= myLayer && target !== u.name) {
          errors.push(`${relative(root, file)}: ${u.name} (layer ${myLayer}) may not import ${target} (layer ${layerOf(target)})`);
        }
      } else if (spec.startsWith('.')) {
        let target = resolve(dirname(file), spec);
        const candidates = [target, `${target}.ts`, `${target}.tsx`, join(target, 'index.ts'), target.replace(/\.js$/, '.ts')];
        target = candidates.find((c) => {
          try {
            return statSync(c).isFile();
          } catch {
            return false;
          }
        });
        if (target && !/^import\s+type\s/.test(m[0].trim())) deps.push(target);
      }
    }
    graph.set(file, deps);
  }
}

// Cycle detection between files (type-only imports are not runtime edges and are ignored).
const state = new Map();
const stack = [];
function visit(n) {
  state.set(n, 1);
  stack.push(n);
  for (const d of graph.get(n) ?? []) {
    if (!graph.has(d)) continue;
    const s = state.get(d);
    if (s === 1) {
      const cycle = stack.slice(stack.indexOf(d)).concat(d).map((f) => relative(root, f));
      errors.push(`import cycle: ${cycle.join(' -> ')}`);
    } else if (!s) visit(d);
  }
  stack.pop();
  state.set(n, 2);
}
for (const n of graph.keys()) if (!state.get(n)) visit(n);

if (errors.length) {
  for (const e of errors) console.error(e);
  console.error(`check-layers: ${errors.length} problem(s)`);
  process.exit(1);
}
console.log(`check-layers: ${graph.size} files, layer order and no cycles OK`);
