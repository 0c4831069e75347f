import { ServerErrors } from './errors';
import { DEFAULT_LINK_LIMITS, type Link, parseLinkFormat } from '@m2mhub/coap';
import { type Lwm2mVersion, type RegisteredObject, SUPPORTED_VERSIONS } from './registration';

/** Limits on a Register/Update; each a config option of the server. */
export interface RegisterLimits {
  /** Links in one registration payload. */
  maxLinks: number;
  /** Endpoint name length (bytes). */
  maxEndpointLength: number;
  /** Smallest accepted lifetime (s); smaller values are raised to it. */
  minLifetime: number;
  /** Largest accepted lifetime (s). */
  maxLifetime: number;
  /** LwM2M versions accepted in `lwm2m=` (others: 4.12). */
  versions: readonly Lwm2mVersion[];
}
export const DEFAULT_REGISTER_LIMITS: RegisterLimits = {
  maxLinks: 1024,
  maxEndpointLength: 256,
  minLifetime: 1,
  maxLifetime: 31_536_000,
  versions: SUPPORTED_VERSIONS,
};

/** The query parameters of Register / Update (LwM2M Core §6.2.1, §6.2.2). */
export interface RegisterParams {
  endpoint?: string;
  lifetime?: number;
  lwm2mVersion?: Lwm2mVersion;
  binding?: string;
  /** 1.1 `Q` flag. */
  queue?: boolean;
  smsNumber?: string;
}

const BINDING_RE = /^[USTNQ]{1,6}$/;

/** Parses Uri-Query values; throws typed errors carrying the CoAP code to answer. */
export function parseRegisterQuery(query: readonly string[], limits: RegisterLimits = DEFAULT_REGISTER_LIMITS): RegisterParams {
  const out: RegisterParams = {};
  for (const q of query) {
    const eq = q.indexOf('=');
    const name = eq < 0 ? q : q.slice(0, eq);
    const value = eq < 0 ? undefined : q.slice(eq + 1);
    switch (name) {
      case 'ep':
        if (!value) throw ServerErrors.missingEndpoint('empty ep');
        if (Buffer.byteLength(value) > limits.maxEndpointLength) throw ServerErrors.badRegistration(`ep longer than ${limits.maxEndpointLength} bytes`);
        out.endpoint = value;
        break;
      case 'lt': {
        if (value === undefined || !/^[0-9]{1,10}$/.test(value)) throw ServerErrors.badRegistration(`lt must be a number of seconds, got "${value ?? ''}"`);
        const lt = Number(value);
        if (lt > limits.maxLifetime) throw ServerErrors.badRegistration(`lt over ${limits.maxLifetime}`);
        out.lifetime = Math.max(limits.minLifetime, lt);
        break;
      }
      case 'lwm2m':
        // LwM2M Transport 1.1 §6.4.3 / Core §6.2.1: an unsupported version gets 4.12
        // Precondition Failed (the Wakaama server does so: anjay-client.jsonl frames 1-2;
        // Anjay then retries with lwm2m=1.1).
        if (!(limits.versions as readonly string[]).includes(value ?? '')) throw ServerErrors.unsupportedVersion(`lwm2m=${value ?? ''}`);
        // The shared constant, not a substring of the query (kept by every registration).
        out.lwm2mVersion = limits.versions.find((v) => v === value)!;
        break;
      case 'b':
        if (value === undefined || !BINDING_RE.test(value)) throw ServerErrors.badRegistration(`bad binding "${value ?? ''}"`);
        out.binding = value;
        break;
      case 'Q':
        if (value !== undefined && value !== '') throw ServerErrors.badRegistration('Q takes no value');
        out.queue = true;
        break;
      case 'sms':
        if (value !== undefined && value.length <= 32) out.smsNumber = value;
        break;
      default:
        // Other parameters (`apn`, `imei`... seen in the field) are ignored, as Leshan keeps
        // them only as additional attributes.
        break;
    }
  }
  return out;
}

export interface ParsedObjectLinks {
  alternatePath: string;
  contentFormat?: number;
  objects: RegisteredObject[];
}

/**
 * LwM2M Core §6.2.1.1 / Transport §6.4.1: the Register payload lists objects and instances
 * (`</3/0>`, `</1>;ver=1.1`); a `</path>;rt="oma.lwm2m"` link gives the alternate path
 * (and its `ct=` the preferred content format). Throws M2M_LWM2M_BAD_REGISTRATION.
 */
export function parseObjectLinks(text: string, limits: RegisterLimits = DEFAULT_REGISTER_LIMITS): ParsedObjectLinks {
  let links: Link[];
  try {
    // RFC 6690 §2 with coap's bounded parser.
    links = parseLinkFormat(text, { ...DEFAULT_LINK_LIMITS, maxLinks: limits.maxLinks });
  } catch (e) {
    throw ServerErrors.badRegistration(`link payload: ${(e as Error).message}`, { cause: e });
  }
  let alternatePath = '/';
  let contentFormat: number | undefined;
  for (const l of links) {
    const rt = attr(l, 'rt');
    if (rt?.split(' ').includes('oma.lwm2m')) {
      alternatePath = normalizeRoot(l.uri);
      const ct = attr(l, 'ct');
      if (ct !== undefined) {
        const first = ct.split(' ')[0] ?? '';
        if (!/^[0-9]{1,5}$/.test(first)) throw ServerErrors.badRegistration(`bad ct "${ct}"`);
        contentFormat = Number(first);
      }
    }
  }
  const byId = new Map<number, RegisteredObject>();
  const prefix = alternatePath === '/' ? '' : alternatePath;
  for (const l of links) {
    const rt = attr(l, 'rt');
    if (rt?.split(' ').includes('oma.lwm2m')) continue;
    let t = l.uri;
    if (prefix && t.startsWith(`${prefix}/`)) t = t.slice(prefix.length);
    if (t === '/' || t === '') continue;
    const segs = t.slice(1).split('/');
    if (t[0] !== '/' || segs.length > 2 || !segs.every((s) => /^(0|[1-9][0-9]{0,4})$/.test(s))) {
      throw ServerErrors.badRegistration(`bad object link <${l.uri}>`);
    }
    const id = Number(segs[0]);
    const inst = segs[1] === undefined ? undefined : Number(segs[1]);
    if (id > 65534 || (inst !== undefined && inst > 65534)) throw ServerErrors.badRegistration(`id out of range in <${l.uri}>`);
    let o = byId.get(id);
    if (!o) byId.set(id, (o = { id, instances: [] }));
    const ver = attr(l, 'ver');
    if (ver !== undefined && inst === undefined) {
      if (!/^[0-9]{1,3}\.[0-9]{1,3}$/.test(ver)) throw ServerErrors.badRegistration(`bad ver "${ver}" on <${l.uri}>`);
      o.version = ver;
    }
    if (inst !== undefined && !o.instances.includes(inst)) o.instances.push(inst);
  }
  const objects = [...byId.values()].sort((a, b) => a.id - b.id);
  // Exact-size copies: a pushed-to array keeps ~16 slots of slack, and registrations are many.
  for (const o of objects) o.instances = o.instances.sort((a, b) => a - b).slice();
  const out: ParsedObjectLinks = { alternatePath, objects };
  if (contentFormat !== undefined) out.contentFormat = contentFormat;
  return out;
}

function normalizeRoot(target: string): string {
  if (target === '' || target === '/') return '/';
  const t = target.endsWith('/') ? target.slice(0, -1) : target;
  if (!/^(\/[A-Za-z0-9_.~-]+)+$/.test(t)) throw ServerErrors.badRegistration(`bad alternate path <${target}>`);
  return t;
}

/** A link parameter's value; a bare name (`;Q`) reads as "". */
function attr(l: Link, name: string): string | undefined {
  const v = l.params[name];
  return v === undefined ? undefined : v === true ? '' : v;
}
