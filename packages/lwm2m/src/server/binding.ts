import type { ClientRequest, ClientResponse, CoapOption } from '@m2mhub/coap';
import { isM2MError } from '@m2mhub/core';
import type { CodecRegistry } from '../codec/codec-registry';
import { ContentFormat } from '../codec/types';
import type { ModelProvider } from '../model/types';
import { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import { ServerErrors } from './errors';
import { type Registration, objectVersions } from './registration';
import { ATTRIBUTE_NAMES, type DeviceRequest } from './requests';
import { type DeviceResponse, codeName, isSuccess } from './responses';

/**
 * The CoAP binding of device management requests (LwM2M Transport §6.4, Table 6.4.3-1 ...):
 * turns a request record into a CoAP request and a CoAP response into a DeviceResponse.
 * Pure: no I/O, no timers.
 */
export interface BindingContext {
  codecs: CodecRegistry;
  model: ModelProvider;
}

const COMPOSITE_FORMATS: readonly number[] = [ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR, ContentFormat.LWM2M_CBOR];
const LOCATION_PATH = 8;

/**
 * DESIGN.md §3: the device's `ct=` registration attribute, else TLV for LwM2M 1.0 and
 * SenML CBOR for 1.1+ (LwM2M Core §7.1: TLV is mandatory in 1.0, SenML CBOR in 1.1).
 */
export function preferredFormat(reg: Registration): number {
  if (reg.contentFormat !== undefined) return reg.contentFormat;
  return reg.lwm2mVersion === '1.0' ? ContentFormat.TLV : ContentFormat.SENML_CBOR;
}

/** Composite operations need a format that carries paths (LwM2M Core §7.4.7): SenML JSON/CBOR or LwM2M CBOR. */
export function compositeFormat(reg: Registration, asked?: number): number {
  if (asked !== undefined) return asked;
  const p = preferredFormat(reg);
  return COMPOSITE_FORMATS.includes(p) ? p : ContentFormat.SENML_CBOR;
}

function uriPath(reg: Registration, path: string): string[] {
  const segs: string[] = [];
  if (reg.alternatePath !== '/') segs.push(...reg.alternatePath.slice(1).split('/'));
  if (path !== '/') segs.push(...path.slice(1).split('/'));
  return segs;
}

function codecFor(ctx: BindingContext, format: number) {
  const c = ctx.codecs.get(format);
  if (!c) throw ServerErrors.invalidRequest(`content format ${format} has no codec`);
  return c;
}

function encodeValues(ctx: BindingContext, reg: Registration, format: number, path: Lwm2mPath, values: ResourceValue[]): Uint8Array {
  try {
    return codecFor(ctx, format).encode(values, { path, model: ctx.model, versions: objectVersions(reg) });
  } catch (e) {
    if (isM2MError(e) && e.code === ServerErrors.invalidRequest.code) throw e;
    throw ServerErrors.invalidRequest(`cannot encode values as format ${format}: ${(e as Error).message}`, { cause: e });
  }
}

function attrQuery(attrs: Record<string, number | null | undefined>): string[] {
  const q: string[] = [];
  for (const n of ATTRIBUTE_NAMES) {
    const v = attrs[n];
    if (v === undefined) continue;
    // LwM2M Core §5.1.2 / Transport §6.4.3: a parameter without a value clears that attribute.
    q.push(v === null ? n : `${n}=${v}`);
  }
  return q;
}

/** The CoAP request for a device management request (the observe option is added by the caller). */
export function toCoapRequest(req: DeviceRequest, reg: Registration, ctx: BindingContext): ClientRequest {
  switch (req.kind) {
    case 'read':
    case 'observe':
      // Always send Accept: the Wakaama client answers 5.00 to an instance read without it.
      return { method: 'GET', path: uriPath(reg, req.path), accept: req.format ?? preferredFormat(reg) };
    case 'discover':
      return { method: 'GET', path: uriPath(reg, req.path), accept: ContentFormat.LINK };
    case 'write': {
      const format = req.format ?? writeFormat(reg, req.values, Lwm2mPath.parse(req.path));
      return {
        // LwM2M Transport §6.4.3: Write replace is PUT, partial update is POST.
        method: req.mode === 'replace' ? 'PUT' : 'POST',
        path: uriPath(reg, req.path),
        contentFormat: format,
        payload: encodeValues(ctx, reg, format, Lwm2mPath.parse(req.path), req.values),
      };
    }
    case 'write-attributes':
      return { method: 'PUT', path: uriPath(reg, req.path), query: attrQuery(req.attributes as Record<string, number | null>) };
    case 'execute': {
      const r: ClientRequest = { method: 'POST', path: uriPath(reg, req.path) };
      if (req.args !== undefined && req.args !== '') {
        r.payload = new TextEncoder().encode(req.args);
        r.contentFormat = ContentFormat.TEXT;
      }
      return r;
    }
    case 'create': {
      const obj = Lwm2mPath.parse(req.path);
      const format = req.format ?? nonTextFormat(reg);
      return {
        method: 'POST',
        path: uriPath(reg, req.path),
        contentFormat: format,
        // Encoded against the object path, so TLV wraps the resources in an Object Instance
        // TLV carrying the new instance id (LwM2M Core §6.3.6 / Appendix: TLV for Create).
        payload: encodeValues(ctx, reg, format, obj, withInstance(req.values, req.path, req.instanceId)),
      };
    }
    case 'delete':
      return { method: 'DELETE', path: uriPath(reg, req.path) };
    case 'read-composite':
    case 'observe-composite': {
      const format = compositeFormat(reg, req.format);
      const codec = codecFor(ctx, format);
      if (!codec.encodePaths) throw ServerErrors.invalidRequest(`format ${format} cannot carry a composite request`);
      // LwM2M Transport §6.4.3: Read-Composite is FETCH on the root with the paths in the payload.
      return {
        method: 'FETCH',
        path: uriPath(reg, '/'),
        contentFormat: format,
        accept: format,
        payload: codec.encodePaths(req.paths.map((p) => Lwm2mPath.parse(p))),
      };
    }
    case 'write-composite': {
      const format = compositeFormat(reg, req.format);
      return {
        method: 'iPATCH',
        path: uriPath(reg, '/'),
        contentFormat: format,
        payload: encodeValues(ctx, reg, format, Lwm2mPath.ROOT, req.values),
      };
    }
    case 'cancel-observation':
      throw ServerErrors.invalidRequest('cancel-observation has no CoAP request of its own');
  }
}

/** Create values relative to the object get the requested instance id put in their paths. */
function withInstance(values: ResourceValue[], objectPath: string, instanceId: number | undefined): ResourceValue[] {
  if (instanceId === undefined) return values;
  return values.map((v) => {
    const p = Lwm2mPath.parse(v.path);
    return p.instanceId === instanceId ? v : { ...v, path: `${objectPath}/${instanceId}${v.path.slice(objectPath.length)}` };
  });
}

function nonTextFormat(reg: Registration): number {
  const p = preferredFormat(reg);
  return p === ContentFormat.TEXT || p === ContentFormat.OPAQUE || p === ContentFormat.CBOR
    ? reg.lwm2mVersion === '1.0'
      ? ContentFormat.TLV
      : ContentFormat.SENML_CBOR
    : p;
}

/** Writes use the device's format; a single resource may go as text/plain when the device prefers text. */
function writeFormat(reg: Registration, values: ResourceValue[], path: Lwm2mPath): number {
  const p = preferredFormat(reg);
  if ((p === ContentFormat.TEXT || p === ContentFormat.OPAQUE) && !(values.length === 1 && path.level === 'resource')) return nonTextFormat(reg);
  return p;
}

function optionString(options: CoapOption[], n: number): string[] {
  const out: string[] = [];
  for (const o of options) if (o.number === n) out.push(Buffer.from(o.value).toString('utf8'));
  return out;
}

/**
 * Decodes a device's answer. Never throws on a bad payload: the result carries
 * `ok: false` and M2M_LWM2M_BAD_RESPONSE instead (a broken device must not break the server).
 */
export function fromCoapResponse(req: DeviceRequest, reg: Registration, res: ClientResponse, ctx: BindingContext): DeviceResponse {
  const out: DeviceResponse = { code: res.code, codeName: codeName(res.code), ok: isSuccess(res.code) };
  if (res.contentFormat !== undefined) out.contentFormat = res.contentFormat;
  if (res.payload.length > 0) out.payload = res.payload;
  if (!out.ok) return out;
  try {
    switch (req.kind) {
      case 'read':
      case 'observe':
        if (res.payload.length > 0 || res.contentFormat !== undefined) out.content = decodeContent(res, Lwm2mPath.parse(req.path), reg, ctx);
        break;
      case 'read-composite':
      case 'observe-composite':
        if (res.payload.length > 0) out.content = decodeContent(res, Lwm2mPath.ROOT, reg, ctx);
        break;
      case 'discover':
        if (res.contentFormat !== undefined && res.contentFormat !== ContentFormat.LINK) {
          throw ServerErrors.badResponse(`discover answered with content format ${res.contentFormat}`);
        }
        out.links = discoverLinks(new TextDecoder('utf-8', { fatal: true }).decode(res.payload));
        break;
      case 'create': {
        const loc = optionString(res.options, LOCATION_PATH);
        const prefix = reg.alternatePath === '/' ? [] : reg.alternatePath.slice(1).split('/');
        const segs = loc.slice(0, prefix.length).join('/') === prefix.join('/') ? loc.slice(prefix.length) : loc;
        if (segs.length > 0) out.location = Lwm2mPath.parse(`/${segs.join('/')}`).toString();
        else if (req.instanceId !== undefined) out.location = `${req.path}/${req.instanceId}`;
        else {
          // No Location-Path: the instance id the payload carried (values under /O/I/...).
          const inst = Lwm2mPath.parse(req.values[0]!.path).instanceId;
          if (inst !== undefined) out.location = `${req.path}/${inst}`;
        }
        break;
      }
      default:
        break;
    }
  } catch (e) {
    out.ok = false;
    out.error = { code: ServerErrors.badResponse.code, message: (e as Error).message };
    delete out.content;
  }
  return out;
}

/** Decodes a payload with the codec of its Content-Format, typed by the object model and the registered versions. */
export function decodeContent(res: { contentFormat?: number; payload: Uint8Array }, path: Lwm2mPath, reg: Registration, ctx: BindingContext): ResourceValue[] {
  let format = res.contentFormat;
  if (format === undefined) {
    if (res.payload.length === 0) return [];
    // RFC 7252 §5.5.2 leaves an unlabelled payload to the application: LwM2M 1.0 devices send
    // single resources as text/plain without the option.
    if (path.level !== 'resource' && path.level !== 'resourceInstance') throw ServerErrors.badResponse('payload without Content-Format');
    format = ContentFormat.TEXT;
  }
  const codec = ctx.codecs.get(format);
  if (!codec) throw ServerErrors.badResponse(`no codec for content format ${format}`);
  try {
    return codec.decode(res.payload, { path, model: ctx.model, versions: objectVersions(reg) });
  } catch (e) {
    throw ServerErrors.badResponse(`format ${format}: ${(e as Error).message}`, { cause: e });
  }
}

/** Splits a link-format document at top-level commas (RFC 6690 §2), quotes respected. */
function discoverLinks(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let inTarget = false;
  for (const ch of text) {
    if (ch === '"' && !inTarget) quoted = !quoted;
    else if (ch === '<' && !quoted) inTarget = true;
    else if (ch === '>' && !quoted) inTarget = false;
    if (ch === ',' && !quoted && !inTarget) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
