// Shared test helpers for the model/codec tests (not a test file itself).
import { readFileSync } from 'node:fs';
import { isM2MError } from '@m2mhub/core';
import {
  type DecodeContext,
  Lwm2mPath,
  type ObjectModel,
  ObjectRegistry,
  type ResourceModel,
  type ResourceType,
  builtinObjects,
} from '../src/index';
import { sharedDir } from '@m2mhub/core/testing';

export const FIXTURES = sharedDir('fixtures', 'real-clients');
export const REGISTRY_XML = sharedDir('lwm2m-registry');

export function builtinRegistry(): ObjectRegistry {
  return new ObjectRegistry(builtinObjects());
}

export function ctx(path: string, model = builtinRegistry(), versions?: Map<number, string>): DecodeContext {
  const c: DecodeContext = { path: Lwm2mPath.parse(path), model };
  if (versions) c.versions = versions;
  return c;
}

export const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHexStr = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A test object (id 40000) with one resource of every type, plus multiple-instance ones. */
export const ALL_TYPES: [number, ResourceType, boolean][] = [
  [0, 'string', false],
  [1, 'integer', false],
  [2, 'unsignedInteger', false],
  [3, 'float', false],
  [4, 'boolean', false],
  [5, 'opaque', false],
  [6, 'time', false],
  [7, 'objlnk', false],
  [8, 'corelnk', false],
  [9, 'integer', true],
  [10, 'string', true],
  [11, 'executable' as never, false],
];

export function allTypesObject(): ObjectModel {
  const resources = new Map<number, ResourceModel>();
  for (const [id, type, multiple] of ALL_TYPES) {
    const t: ResourceType = (type as string) === 'executable' ? 'none' : type;
    resources.set(id, {
      id,
      name: `r${id}`,
      operations: t === 'none' ? 'E' : 'RW',
      multiple,
      mandatory: false,
      type: t,
    });
  }
  return { id: 40000, name: 'All types', version: '1.0', multiple: true, mandatory: false, resources };
}

export interface Frame {
  frame: number;
  dir: string;
  code: string;
  token: string;
  type: string;
  contentFormat: number | null;
  payloadHex: string;
  note?: string;
  options: { name: string; value: unknown; block?: { num: number; more: boolean } }[];
}

export function readFrames(file: string): Frame[] {
  return readFileSync(`${FIXTURES}/${file}`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Frame);
}

export function uriPath(f: Frame): string {
  return `/${f.options
    .filter((o) => o.name === 'Uri-Path')
    .map((o) => String(o.value))
    .join('/')}`;
}

/**
 * Payloads with a content format, with the LwM2M path they refer to: a request's own
 * Uri-Path, a response's request path (matched by token), Block2 responses reassembled.
 */
export function payloadsOf(file: string): { frame: number; format: number; path: string; payload: Uint8Array }[] {
  const frames = readFrames(file);
  const requests = new Map<string, Frame>();
  const out: { frame: number; format: number; path: string; payload: Uint8Array }[] = [];
  let blocks: Buffer[] = [];
  for (const f of frames) {
    if (f.code.startsWith('0.')) requests.set(`${f.dir}:${f.token}`, f);
    if (f.contentFormat === null || !f.payloadHex) continue;
    let payload = Buffer.from(f.payloadHex, 'hex');
    const b2 = f.options.find((o) => o.name === 'Block2');
    if (b2?.block && !f.code.startsWith('0.')) {
      blocks.push(payload);
      if (b2.block.more) continue;
      payload = Buffer.concat(blocks);
      blocks = [];
    }
    let path = uriPath(f);
    if (!f.code.startsWith('0.')) {
      const otherDir = f.dir === 'client->server' ? 'server->client' : 'client->server';
      const req = requests.get(`${otherDir}:${f.token}`);
      if (req) path = uriPath(req);
    }
    if (path === '/dp' || path === '/rd' || path.startsWith('/rd/')) path = '/';
    out.push({ frame: f.frame, format: f.contentFormat, path, payload: new Uint8Array(payload) });
  }
  return out;
}

/** Asserts `fn` throws an M2MError (optionally with one of the codes). */
export function typedError(codes?: string[]) {
  return (e: unknown) => {
    if (!isM2MError(e)) throw new Error(`expected an M2MError, got ${String(e)}`, { cause: e });
    if (codes && !codes.includes(e.code)) throw new Error(`expected ${codes.join('|')}, got ${e.code}: ${e.message}`);
    return true;
  };
}
