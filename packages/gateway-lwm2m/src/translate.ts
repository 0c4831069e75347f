/**
 * JSON command -> LwM2M device request, device response -> JSON reply (DESIGN.md §3). Pure:
 * the object model types the values, nothing here does I/O.
 */
import { Lwm2mPath, type DeviceRequest, type DeviceResponse, type ModelProvider, type NotificationAttributes } from '@m2mhub/lwm2m';
import type { Lwm2mCommand, ParsedCommand } from './command';
import { type JsonObject, makeReply } from './reply';
import { toContent, ValueError, writeItemToValue } from './values';

export interface TranslateContext {
  model: ModelProvider;
  /** Object versions the device registered (`ver=`). */
  versions?: Map<number, string>;
  /** The observation id of an active observe on `key` (a path, or sorted paths joined by ","). */
  observationOf(key: string): string | undefined;
}

/** Observation key of a command: its path, or its composite paths sorted. */
export function observationKey(paths: string[]): string {
  return [...paths].sort().join(',');
}

function checkWritable(path: string, ctx: TranslateContext): void {
  const p = Lwm2mPath.parse(path);
  if (p.objectId === undefined || p.resourceId === undefined) return;
  const r = ctx.model.getResource(p.objectId, p.resourceId, ctx.versions?.get(p.objectId));
  if (r && !r.operations.includes('W')) throw new ValueError(`${path} (${r.name}) is not writable (operations "${r.operations}")`);
}

/** Builds the device request; throws ValueError for a value the model refuses. */
export function toDeviceRequest(cmd: Lwm2mCommand, ctx: TranslateContext): DeviceRequest {
  const fmt = <T extends object>(r: T): T => ('format' in cmd && cmd.format !== undefined ? { ...r, format: cmd.format } : r);
  switch (cmd.msgType) {
    case 'read':
      return fmt({ kind: 'read', path: cmd.path });
    case 'discover':
      return { kind: 'discover', path: cmd.path };
    case 'observe':
      return fmt({ kind: 'observe', path: cmd.path });
    case 'delete':
      return { kind: 'delete', path: cmd.path };
    case 'cancel-observe':
    case 'cancel-observe-composite': {
      const key = 'paths' in cmd ? observationKey(cmd.paths) : cmd.path;
      const id = ctx.observationOf(key);
      if (id === undefined) throw new ValueError(`no active observation of ${key}`);
      return { kind: 'cancel-observation', observationId: id, mode: 'active' };
    }
    case 'write': {
      for (const it of cmd.items) checkWritable(it.path, ctx);
      const values = cmd.items.map((it) => writeItemToValue(it, ctx.model, ctx.versions));
      // LwM2M Core §6.3.3: a batch on an instance is a partial update (POST); a resource is replaced (PUT).
      const level = Lwm2mPath.parse(cmd.path).level;
      const mode = cmd.batch && level === 'instance' ? 'update' : 'replace';
      return fmt({ kind: 'write', path: cmd.path, mode, values });
    }
    case 'write-composite': {
      for (const it of cmd.items) checkWritable(it.path, ctx);
      return fmt({ kind: 'write-composite', values: cmd.items.map((it) => writeItemToValue(it, ctx.model, ctx.versions)) });
    }
    case 'create': {
      const values = cmd.items.map((it) => writeItemToValue(it, ctx.model, ctx.versions));
      const inst = new Set(values.map((v) => Lwm2mPath.parse(v.path).instanceId));
      const first = [...inst][0];
      if (inst.size !== 1 || first === undefined) throw new ValueError('create: every value must be under one instance, e.g. "/3303/0/5700"');
      return fmt({ kind: 'create', path: cmd.path, values, instanceId: first });
    }
    case 'write-attr': {
      const attributes: NotificationAttributes = {};
      for (const [k, v] of cmd.attrs) attributes[k as keyof NotificationAttributes] = v === '' ? null : Number(v);
      return { kind: 'write-attributes', path: cmd.path, attributes };
    }
    case 'execute':
      return cmd.args === '' ? { kind: 'execute', path: cmd.path } : { kind: 'execute', path: cmd.path, args: cmd.args };
    case 'read-composite':
      return fmt({ kind: 'read-composite', paths: cmd.paths });
    case 'observe-composite':
      return fmt({ kind: 'observe-composite', paths: cmd.paths });
  }
}

/** The reply to a command from what the device answered. */
export function replyFromResponse(ep: string, parsed: ParsedCommand, res: DeviceResponse, ctx: TranslateContext): JsonObject {
  const { raw, cmd } = parsed;
  const extra: { content?: JsonObject[] | string[]; error?: string } = {};
  if (res.content !== undefined && res.content.length > 0) extra.content = toContent(res.content, ctx.model, ctx.versions) as unknown as JsonObject[];
  else if (res.links !== undefined) extra.content = res.links;
  if (!res.ok && res.error) extra.error = res.error.message;
  const reply = makeReply(ep, cmd.msgType, raw, cmd.path, res.code, extra);
  if (res.location !== undefined) (reply.data as JsonObject).location = res.location;
  return reply;
}
