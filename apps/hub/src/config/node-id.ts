/**
 * `cluster.node_id`: the name of this hub process among the nodes sharing one Redis
 * (DESIGN.md §5; gateways record which node owns a device's UDP/DTLS session). Unset, it is
 * `<hostname>-<8 random hex>`, created once and kept in `<data_dir>/node_id`, so a node keeps
 * its name across restarts; each node needs its own data directory (or an explicit id).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const NODE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
export const NODE_ID_FILE = 'node_id';

function fromHostname(): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40) || 'node';
  return `${host}-${randomBytes(4).toString('hex')}`;
}

/** The configured id, else the one kept in `dataDir`, else a new one written there. */
export function resolveNodeId(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = join(dataDir, NODE_ID_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (NODE_ID_RE.test(kept)) return kept;
  } catch {}
  const id = fromHostname();
  writeFileSync(file, `${id}\n`);
  return id;
}
