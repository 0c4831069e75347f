import { Lwm2mPath, type PathLevel } from '../node/path';
import type { ResourceValue } from '../node/value';
import { ServerErrors } from './errors';

/**
 * Device management and information reporting requests (server -> device), one record per
 * operation (LwM2M Core §6.3, §6.4). Records are plain data so a queued request can be
 * persisted; build them with the `Requests` factories, which validate (as Leshan validates
 * in each request's constructor). `format` asks for a specific content format; otherwise
 * the device's preferred one is used.
 */
export interface ReadRequest { kind: 'read'; path: string; format?: number }
export interface DiscoverRequest { kind: 'discover'; path: string }
export interface WriteRequest {
  kind: 'write';
  path: string;
  /** LwM2M Core §6.3.3: `replace` is CoAP PUT, `update` (partial update) is CoAP POST. */
  mode: 'replace' | 'update';
  values: ResourceValue[];
  format?: number;
}
/** LwM2M Core §5.1.2 notification attributes; `null` clears one (sent as a bare name). */
export interface NotificationAttributes {
  pmin?: number | null;
  pmax?: number | null;
  gt?: number | null;
  lt?: number | null;
  st?: number | null;
  epmin?: number | null;
  epmax?: number | null;
  edge?: number | null;
  con?: number | null;
  hqmax?: number | null;
}
export const ATTRIBUTE_NAMES = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax', 'edge', 'con', 'hqmax'] as const;
export interface WriteAttributesRequest { kind: 'write-attributes'; path: string; attributes: NotificationAttributes }
export interface ExecuteRequest { kind: 'execute'; path: string; args?: string }
export interface CreateRequest {
  kind: 'create';
  /** The object path, "/31024". */
  path: string;
  /** Resources of the new instance; paths relative to the instance ("/31024/20/1") or to the object when `instanceId` is absent. */
  values: ResourceValue[];
  instanceId?: number;
  format?: number;
}
export interface DeleteRequest { kind: 'delete'; path: string }
export interface ReadCompositeRequest { kind: 'read-composite'; paths: string[]; format?: number }
export interface WriteCompositeRequest { kind: 'write-composite'; values: ResourceValue[]; format?: number }
export interface ObserveRequest { kind: 'observe'; path: string; format?: number }
export interface ObserveCompositeRequest { kind: 'observe-composite'; paths: string[]; format?: number }
export interface CancelObservationRequest {
  kind: 'cancel-observation';
  /** The observation id (token hex) returned by observe. */
  observationId: string;
  /** RFC 7641 §3.6: active sends GET/FETCH with Observe=1, passive forgets and RSTs the next notification. */
  mode?: 'active' | 'passive';
}

export type DeviceRequest =
  | ReadRequest
  | DiscoverRequest
  | WriteRequest
  | WriteAttributesRequest
  | ExecuteRequest
  | CreateRequest
  | DeleteRequest
  | ReadCompositeRequest
  | WriteCompositeRequest
  | ObserveRequest
  | ObserveCompositeRequest
  | CancelObservationRequest;

export type DeviceRequestKind = DeviceRequest['kind'];

/** Limits on what a request may carry; every one is configurable. */
export interface RequestLimits {
  /** Paths in one composite request. */
  maxCompositePaths: number;
  /** Values in one write / create / write-composite. */
  maxValues: number;
  /** Execute argument string length (bytes). */
  maxExecuteArgs: number;
}
export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxCompositePaths: 64, maxValues: 1024, maxExecuteArgs: 1024 };

function path(s: unknown, allowed: readonly PathLevel[], what: string): Lwm2mPath {
  if (typeof s !== 'string') throw ServerErrors.invalidRequest(`${what}: path must be a string`);
  let p: Lwm2mPath;
  try {
    p = Lwm2mPath.parse(s);
  } catch (e) {
    throw ServerErrors.invalidRequest(`${what}: ${(e as Error).message}`, { cause: e });
  }
  if (!allowed.includes(p.level)) throw ServerErrors.invalidRequest(`${what}: ${p.level} path "${s}" not allowed (${allowed.join(', ')})`);
  return p;
}

function format(f: unknown, what: string): void {
  if (f !== undefined && (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f > 65535)) {
    throw ServerErrors.invalidRequest(`${what}: format must be a content-format number`);
  }
}

function values(vs: unknown, under: Lwm2mPath | undefined, limits: RequestLimits, what: string): void {
  if (!Array.isArray(vs) || vs.length === 0) throw ServerErrors.invalidRequest(`${what}: values must be a non-empty array`);
  if (vs.length > limits.maxValues) throw ServerErrors.invalidRequest(`${what}: more than ${limits.maxValues} values`);
  for (const v of vs as ResourceValue[]) {
    if (typeof v !== 'object' || v === null) throw ServerErrors.invalidRequest(`${what}: a value is not an object`);
    const p = path(v.path, ['resource', 'resourceInstance'], what);
    if (under && !p.startsWith(under)) throw ServerErrors.invalidRequest(`${what}: value path ${v.path} is not under ${under.toString()}`);
    if (v.value === undefined || v.value === null) throw ServerErrors.invalidRequest(`${what}: value of ${v.path} is missing`);
  }
}

const ALL_BUT_ROOT: readonly PathLevel[] = ['object', 'instance', 'resource', 'resourceInstance'];

/** Validates any request record (also ones restored from a queue store); throws M2M_LWM2M_INVALID_REQUEST. */
export function validateRequest(r: DeviceRequest, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): DeviceRequest {
  if (typeof r !== 'object' || r === null) throw ServerErrors.invalidRequest('request must be an object');
  const what = r.kind;
  switch (r.kind) {
    case 'read':
    case 'observe':
      // LwM2M Core §6.3.1: Read on an object, instance, resource or resource instance.
      path(r.path, ALL_BUT_ROOT, what);
      format(r.format, what);
      return r;
    case 'discover':
      path(r.path, ['object', 'instance', 'resource'], what);
      return r;
    case 'write': {
      if (r.mode !== 'replace' && r.mode !== 'update') throw ServerErrors.invalidRequest('write: mode must be replace or update');
      const p = path(r.path, ['instance', 'resource', 'resourceInstance'], what);
      values(r.values, p, limits, what);
      format(r.format, what);
      return r;
    }
    case 'write-attributes': {
      path(r.path, ALL_BUT_ROOT, what);
      const a = r.attributes as Record<string, unknown>;
      if (typeof a !== 'object' || a === null) throw ServerErrors.invalidRequest('write-attributes: attributes must be an object');
      const names = Object.keys(a);
      if (names.length === 0) throw ServerErrors.invalidRequest('write-attributes: no attribute');
      for (const n of names) {
        if (!(ATTRIBUTE_NAMES as readonly string[]).includes(n)) throw ServerErrors.invalidRequest(`write-attributes: unknown attribute ${n}`);
        const v = a[n];
        if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw ServerErrors.invalidRequest(`write-attributes: ${n} must be a number or null`);
        if (v !== null && ['pmin', 'pmax', 'epmin', 'epmax', 'hqmax'].includes(n) && (!Number.isInteger(v) || (v as number) < 0)) {
          throw ServerErrors.invalidRequest(`write-attributes: ${n} must be a non-negative integer`);
        }
        if (v !== null && (n === 'edge' || n === 'con') && v !== 0 && v !== 1) throw ServerErrors.invalidRequest(`write-attributes: ${n} must be 0 or 1`);
      }
      return r;
    }
    case 'execute':
      path(r.path, ['resource'], what);
      if (r.args !== undefined) {
        if (typeof r.args !== 'string') throw ServerErrors.invalidRequest('execute: args must be a string');
        if (Buffer.byteLength(r.args) > limits.maxExecuteArgs) throw ServerErrors.invalidRequest(`execute: args over ${limits.maxExecuteArgs} bytes`);
      }
      return r;
    case 'create': {
      const p = path(r.path, ['object'], what);
      if (r.instanceId !== undefined && (!Number.isInteger(r.instanceId) || r.instanceId < 0 || r.instanceId > 65534)) {
        throw ServerErrors.invalidRequest('create: instanceId must be 0..65534');
      }
      values(r.values, r.instanceId === undefined ? p : p.child(r.instanceId), limits, what);
      format(r.format, what);
      return r;
    }
    case 'delete':
      path(r.path, ['instance'], what);
      return r;
    case 'read-composite':
    case 'observe-composite':
      if (!Array.isArray(r.paths) || r.paths.length === 0) throw ServerErrors.invalidRequest(`${what}: paths must be a non-empty array`);
      if (r.paths.length > limits.maxCompositePaths) throw ServerErrors.invalidRequest(`${what}: more than ${limits.maxCompositePaths} paths`);
      for (const p of r.paths) path(p, ['root', ...ALL_BUT_ROOT], what);
      format(r.format, what);
      return r;
    case 'write-composite':
      values(r.values, undefined, limits, what);
      format(r.format, what);
      return r;
    case 'cancel-observation':
      if (typeof r.observationId !== 'string' || !/^[0-9a-f]{0,16}$/.test(r.observationId)) {
        throw ServerErrors.invalidRequest('cancel-observation: observationId must be a token in hex');
      }
      if (r.mode !== undefined && r.mode !== 'active' && r.mode !== 'passive') throw ServerErrors.invalidRequest('cancel-observation: mode');
      return r;
    default:
      throw ServerErrors.invalidRequest(`unknown request kind ${(r as { kind?: unknown }).kind as string}`);
  }
}

type Opt<T> = Omit<T, 'kind'>;
/** Validating factories, one per operation. */
export const Requests = {
  read: (path: string, format?: number): ReadRequest => validateRequest(withFormat({ kind: 'read', path }, format)) as ReadRequest,
  discover: (path: string): DiscoverRequest => validateRequest({ kind: 'discover', path }) as DiscoverRequest,
  write: (r: Opt<WriteRequest>): WriteRequest => validateRequest({ kind: 'write', ...r }) as WriteRequest,
  writeAttributes: (path: string, attributes: NotificationAttributes): WriteAttributesRequest =>
    validateRequest({ kind: 'write-attributes', path, attributes }) as WriteAttributesRequest,
  execute: (path: string, args?: string): ExecuteRequest =>
    validateRequest(args === undefined ? { kind: 'execute', path } : { kind: 'execute', path, args }) as ExecuteRequest,
  create: (r: Opt<CreateRequest>): CreateRequest => validateRequest({ kind: 'create', ...r }) as CreateRequest,
  delete: (path: string): DeleteRequest => validateRequest({ kind: 'delete', path }) as DeleteRequest,
  readComposite: (paths: string[], format?: number): ReadCompositeRequest =>
    validateRequest(withFormat({ kind: 'read-composite', paths }, format)) as ReadCompositeRequest,
  writeComposite: (values: ResourceValue[], format?: number): WriteCompositeRequest =>
    validateRequest(withFormat({ kind: 'write-composite', values }, format)) as WriteCompositeRequest,
  observe: (path: string, format?: number): ObserveRequest => validateRequest(withFormat({ kind: 'observe', path }, format)) as ObserveRequest,
  observeComposite: (paths: string[], format?: number): ObserveCompositeRequest =>
    validateRequest(withFormat({ kind: 'observe-composite', paths }, format)) as ObserveCompositeRequest,
  cancelObservation: (observationId: string, mode: 'active' | 'passive' = 'active'): CancelObservationRequest =>
    validateRequest({ kind: 'cancel-observation', observationId, mode }) as CancelObservationRequest,
};

function withFormat<T extends object>(r: T, format: number | undefined): T & { format?: number } {
  return format === undefined ? r : { ...r, format };
}
