/**
 * Typed errors with stable codes. Every code is registered once here (or by a package
 * through `defineError`) with the message and what it maps to on each wire, so a code
 * means the same thing in logs, MQTT replies, CoAP responses and HTTP answers.
 * Codes are `M2M_<AREA>_<NAME>`.
 */
export interface WireMapping {
  /** CoAP response code as "c.dd", e.g. "4.00". */
  coap?: string;
  /** HTTP status code. */
  http?: number;
  /** MQTT 3.1.1 CONNACK return code. */
  connack?: number;
  /** DTLS/TLS alert description (RFC 5246 §7.2). */
  alert?: number;
}

export interface ErrorDefinition extends WireMapping {
  code: string;
  message: string;
}

const registry = new Map<string, ErrorDefinition>();

export class M2MError extends Error {
  readonly code: string;
  readonly wire: WireMapping;
  override readonly cause?: unknown;
  constructor(def: ErrorDefinition, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${def.message}: ${detail}` : def.message);
    this.name = 'M2MError';
    this.code = def.code;
    const wire: WireMapping = {};
    if (def.coap !== undefined) wire.coap = def.coap;
    if (def.http !== undefined) wire.http = def.http;
    if (def.connack !== undefined) wire.connack = def.connack;
    if (def.alert !== undefined) wire.alert = def.alert;
    this.wire = wire;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export interface ErrorFactory {
  (detail?: string, options?: { cause?: unknown }): M2MError;
  readonly code: string;
  readonly definition: ErrorDefinition;
  is(err: unknown): err is M2MError;
}

/** Registers an error code; throws if the code is malformed or defined twice with another meaning. */
export function defineError(code: string, message: string, wire: WireMapping = {}): ErrorFactory {
  if (!/^M2M_[A-Z0-9]+_[A-Z0-9_]+$/.test(code)) throw new Error(`invalid error code ${code}`);
  const existing = registry.get(code);
  if (existing && existing.message !== message) throw new Error(`error code ${code} defined twice`);
  const definition: ErrorDefinition = { code, message, ...wire };
  registry.set(code, definition);
  const factory = ((detail?: string, options?: { cause?: unknown }) =>
    new M2MError(definition, detail, options)) as ErrorFactory;
  Object.defineProperty(factory, 'code', { value: code });
  Object.defineProperty(factory, 'definition', { value: definition });
  Object.defineProperty(factory, 'is', {
    value: (err: unknown): err is M2MError => err instanceof M2MError && err.code === code,
  });
  return factory;
}

/** All registered error definitions, for docs and the test that every code is documented. */
export function listErrors(): ErrorDefinition[] {
  return [...registry.values()].sort((a, b) => a.code.localeCompare(b.code));
}

export function isM2MError(err: unknown): err is M2MError {
  return err instanceof M2MError;
}

export const CoreErrors = {
  invalidArgument: defineError('M2M_CORE_INVALID_ARGUMENT', 'invalid argument', { coap: '4.00', http: 400 }),
  bufferUnderflow: defineError('M2M_CORE_BUFFER_UNDERFLOW', 'read past the end of the input', {
    coap: '4.00',
    http: 400,
  }),
  limitExceeded: defineError('M2M_CORE_LIMIT_EXCEEDED', 'a configured limit was exceeded', {
    coap: '4.13',
    http: 413,
  }),
  timeout: defineError('M2M_CORE_TIMEOUT', 'operation timed out', { http: 504 }),
  cancelled: defineError('M2M_CORE_CANCELLED', 'operation cancelled', { http: 499 }),
  closed: defineError('M2M_CORE_CLOSED', 'resource is closed', { http: 503 }),
} as const;
