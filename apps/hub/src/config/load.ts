/**
 * Loads the config: defaults < file (`--config FILE`, JSON, or YAML for .yaml/.yml) < environment (`M2MHUB_<KEY>`,
 * `__` between levels, as EMQX) < flags (`--mqtt.tcp.port 1884`). Any bad value is one
 * `ConfigError` line naming the key, the value, where it came from and what is allowed.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineError } from '@m2mhub/core';
import { parse as parseYaml } from 'yaml';
import { type ConfigOf, type Field, isField, type Section, walkFields } from './schema';

export const ConfigErrors = {
  invalid: defineError('M2M_CONFIG_INVALID', 'invalid config'),
};
export type ConfigError = ReturnType<typeof ConfigErrors.invalid>;
export const ConfigError = { is: ConfigErrors.invalid.is };

export interface LoadSources {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Base for a relative `--config` path. */
  cwd: string;
}

export interface Loaded<S extends Section> {
  config: ConfigOf<S>;
  /** Where each key that is not a default came from ("file x.json", "env M2MHUB_X", "flag --x"). */
  origins: Record<string, string>;
  configFile?: string;
  help: boolean;
}

const MAX_CONFIG_FILE_BYTES = 10 * 1024 * 1024;
const ENV_PREFIX = 'M2MHUB_';

function show(field: Field<unknown>, raw: unknown): string {
  if (field.secret) return '"***"';
  const s = typeof raw === 'string' ? JSON.stringify(raw) : JSON.stringify(raw) ?? String(raw);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function invalid(msg: string): never {
  throw ConfigErrors.invalid(msg);
}

export function defaultConfig<S extends Section>(schema: S): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = isField(v) ? v.default : defaultConfig(v);
  return out as ConfigOf<S>;
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[parts[parts.length - 1]!] = value;
}

/** Flattens a parsed config file into dotted keys; unknown keys are errors (typos must not pass silently). */
function flattenFile(value: unknown, schema: Section, prefix: string, file: string, out: Array<[string, unknown]>): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(`${prefix || 'the file'} in ${file} must be an object`);
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const def = Object.hasOwn(schema, k) ? schema[k] : undefined;
    if (!def) invalid(`unknown key ${key} (from file ${file})`);
    if (isField(def)) out.push([key, v]);
    else flattenFile(v, def, key, file, out);
  }
}

export function parseArgs(argv: readonly string[]): { flags: Array<[string, string]>; configFile?: string; help: boolean } {
  const flags: Array<[string, string]> = [];
  let configFile: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (!a.startsWith('--')) invalid(`unexpected argument ${JSON.stringify(a)} (flags look like --mqtt.tcp.port 1884)`);
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
      value = argv[++i]!;
    }
    if (name === 'config' || name === 'c') {
      if (value === undefined) invalid('--config needs a file path');
      configFile = value;
      continue;
    }
    // A bare boolean flag (`--mqtt.auth.enabled`) means true.
    flags.push([name, value ?? 'true']);
  }
  const out: { flags: Array<[string, string]>; configFile?: string; help: boolean } = { flags, help };
  if (configFile !== undefined) out.configFile = configFile;
  return out;
}

export function loadConfig<S extends Section>(schema: S, sources: LoadSources): Loaded<S> {
  const fields = new Map(walkFields(schema));
  const config = defaultConfig(schema) as Record<string, unknown>;
  const origins: Record<string, string> = {};
  const { flags, configFile, help } = parseArgs(sources.argv);
  const apply = (key: string, raw: unknown, origin: string) => {
    const field = fields.get(key);
    if (!field) invalid(`unknown key ${key} (from ${origin})`);
    let value: unknown;
    try {
      value = field.parse(raw);
    } catch (err) {
      invalid(`${key} = ${show(field, raw)} (from ${origin}) is not allowed: expected ${(err as Error).message}`);
    }
    setPath(config, key, value);
    origins[key] = origin;
  };

  const fileArg = configFile ?? sources.env[`${ENV_PREFIX}CONFIG`];
  let file: string | undefined;
  if (fileArg) {
    file = resolve(sources.cwd, fileArg);
    let text: string;
    try {
      if (statSync(file).size > MAX_CONFIG_FILE_BYTES) invalid(`config file ${file} is over ${MAX_CONFIG_FILE_BYTES} bytes`);
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (ConfigError.is(err)) throw err;
      invalid(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let parsed: unknown;
    const yamlFile = /\.ya?ml$/i.test(file);
    try {
      // YAML: one plain document, no custom tags, bounded alias expansion (billion laughs).
      parsed = yamlFile ? parseYaml(text, { maxAliasCount: 100, strict: true, uniqueKeys: true }) : JSON.parse(text);
    } catch (err) {
      invalid(`config file ${file} is not valid ${yamlFile ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`);
    }
    const pairs: Array<[string, unknown]> = [];
    flattenFile(parsed, schema, '', file, pairs);
    for (const [k, v] of pairs) apply(k, v, `file ${file}`);
  }

  // Environment: M2MHUB_MQTT__TCP__PORT -> mqtt.tcp.port. Variables that name no key and
  // have no "__" (M2MHUB_ADMIN_PASSWORD, M2MHUB_TEST_FILTER) belong to someone else.
  const envKeys = Object.keys(sources.env)
    .filter((n) => n.startsWith(ENV_PREFIX) && n !== `${ENV_PREFIX}CONFIG`)
    .sort();
  for (const name of envKeys) {
    const key = name.slice(ENV_PREFIX.length).toLowerCase().split('__').join('.');
    if (!fields.has(key) && !name.includes('__')) continue;
    apply(key, sources.env[name], `env ${name}`);
  }
  for (const [key, value] of flags) apply(key, value, `flag --${key}`);
  const out: Loaded<S> = { config: config as ConfigOf<S>, origins, help };
  if (file) out.configFile = file;
  return out;
}

/** `--help` text generated from the schema. */
export function helpText<S extends Section>(schema: S): string {
  const lines = [
    'Usage: m2mhub [--config FILE] [--<key> <value> ...]',
    '',
    'Every key can be set in a JSON config file, as an environment variable',
    '(M2MHUB_<KEY> with __ between levels, e.g. M2MHUB_MQTT__TCP__PORT=1884) or as a flag',
    '(--mqtt.tcp.port 1884); flags win over the environment, which wins over the file.',
    '',
  ];
  for (const [key, f] of walkFields(schema)) {
    const def = f.default === undefined ? '' : ` (default ${JSON.stringify(f.default)})`;
    lines.push(`  --${key}${def}`, `      ${f.description}; ${f.allowed}`);
  }
  return lines.join('\n');
}

/** The key reference of docs/config.md, generated from the schema (a test keeps them in sync). */
export function configReference<S extends Section>(schema: S): string {
  const rows = ['| key | environment variable | default | allowed | description |', '|---|---|---|---|---|'];
  for (const [key, f] of walkFields(schema)) {
    const env = `M2MHUB_${key.split('.').join('__').toUpperCase()}`;
    const def = f.default === undefined ? '(unset)' : `\`${JSON.stringify(f.default)}\``;
    rows.push(`| \`${key}\` | \`${env}\` | ${def} | ${f.allowed.replace(/\|/g, '\\|')} | ${f.description.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}
