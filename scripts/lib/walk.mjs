import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Files below `dir` (skipping node_modules, dist and dot folders) whose name passes `keep`. A missing dir is empty. */
export function walk(dir, keep, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, keep, out);
    else if (keep(e)) out.push(p);
  }
  return out;
}
