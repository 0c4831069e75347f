import { readFileSync } from 'node:fs';
import { ObjectRegistry } from '../model/object-registry';
import type { ObjectModel } from '../model/types';
import { type ObjectXmlOptions, loadObjectsFromDir } from '../model/xml';
import { type CompactObject, decodeObjects } from './compact';

let cache: ObjectModel[] | undefined;

/**
 * The built-in OMA object definitions (generated from the OMNA registry, see
 * `generated/NOTICE`). Parsed once, on first use; callers must not mutate the returned models.
 */
export function builtinObjects(): ObjectModel[] {
  if (!cache) {
    const raw = readFileSync(new URL('./generated/objects.json', import.meta.url), 'utf8');
    cache = decodeObjects((JSON.parse(raw) as { objects: CompactObject[] }).objects);
  }
  return cache;
}

export interface CreateRegistryOptions extends ObjectXmlOptions {
  /** Include the built-in OMA objects (default true). */
  builtin?: boolean;
  /** A folder of the user's own object XML files (`lwm2m.xml_dir`), loaded over the built-ins. */
  xmlDir?: string;
}

/**
 * Builds an ObjectRegistry from the built-ins plus `xmlDir`. Broken user files do not stop
 * the others; they come back in `errors` (each names its file) for the caller to log.
 */
export function createObjectRegistry(opts: CreateRegistryOptions = {}): {
  registry: ObjectRegistry;
  errors: { file: string; error: Error }[];
} {
  const registry = new ObjectRegistry(opts.builtin === false ? [] : builtinObjects());
  if (opts.xmlDir === undefined) return { registry, errors: [] };
  const { builtin: _b, xmlDir, ...xmlOpts } = opts;
  const { objects, errors } = loadObjectsFromDir(xmlDir, xmlOpts);
  registry.addAll(objects);
  return { registry, errors };
}
