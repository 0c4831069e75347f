import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's shared folder (OMA registry XML, real-client captures): `M2MHUB_SHARED_DIR`, else
 * `shared/` beside the repository, as CI lays it out. Tests that need it fail when it is missing.
 */
export function sharedDir(...parts: string[]): string {
  const repoRoot = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
  const base = process.env.M2MHUB_SHARED_DIR ?? join(repoRoot, '..', 'shared');
  const dir = join(base, ...parts);
  if (!existsSync(dir)) throw new Error(`shared fixtures not found at ${dir} (set M2MHUB_SHARED_DIR)`);
  return dir;
}
