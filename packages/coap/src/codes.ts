/** CoAP codes (RFC 7252 §3, §12.1): "c.dd" strings <-> the code byte. */
import type { CoapMethod } from './api';

const CODE_STRINGS: string[] = [];
for (let b = 0; b < 256; b++) CODE_STRINGS.push(`${b >> 5}.${String(b & 31).padStart(2, '0')}`);
const CODE_BYTES = new Map<string, number>(CODE_STRINGS.map((s, i) => [s, i]));

export function codeToString(byte: number): string {
  return CODE_STRINGS[byte & 0xff]!;
}

/** Parses "c.dd" into the code byte; throws TypeError on anything else (a programming error). */
export function codeToByte(code: string): number {
  const b = CODE_BYTES.get(code);
  if (b === undefined) throw new TypeError(`not a CoAP code: ${code}`);
  return b;
}

/** RFC 7252 §12.1.1, RFC 8132 (FETCH, PATCH, iPATCH). */
export const METHOD_CODES: Readonly<Record<CoapMethod, string>> = {
  GET: '0.01',
  POST: '0.02',
  PUT: '0.03',
  DELETE: '0.04',
  FETCH: '0.05',
  PATCH: '0.06',
  iPATCH: '0.07',
};

const METHOD_BY_CODE = new Map<string, CoapMethod>(
  Object.entries(METHOD_CODES).map(([m, c]) => [c, m as CoapMethod]),
);

export function methodOf(code: string): CoapMethod | undefined {
  return METHOD_BY_CODE.get(code);
}

export const EMPTY_CODE = '0.00';

/** A request code is class 0 and not Empty. */
export function isRequestCode(code: string): boolean {
  return code.charCodeAt(0) === 48 && code !== EMPTY_CODE;
}

/** Response classes 2, 4 and 5 (RFC 7252 §5.9); 1, 6 and 7 are reserved. */
export function isResponseCode(code: string): boolean {
  const c = code.charCodeAt(0);
  return c === 50 || c === 52 || c === 53;
}

export function isSuccessCode(code: string): boolean {
  return code.charCodeAt(0) === 50;
}

/** snake_case names of response codes (RFC 7252 §12.1.2, RFC 7959 §2.9, RFC 8132). */
export const CODE_NAMES: Readonly<Record<string, string>> = {
  '2.01': 'created',
  '2.02': 'deleted',
  '2.03': 'valid',
  '2.04': 'changed',
  '2.05': 'content',
  '2.31': 'continue',
  '4.00': 'bad_request',
  '4.01': 'unauthorized',
  '4.02': 'bad_option',
  '4.03': 'forbidden',
  '4.04': 'not_found',
  '4.05': 'method_not_allowed',
  '4.06': 'not_acceptable',
  '4.08': 'request_entity_incomplete',
  '4.09': 'conflict',
  '4.12': 'precondition_failed',
  '4.13': 'request_entity_too_large',
  '4.15': 'unsupported_content_format',
  '4.22': 'unprocessable_entity',
  '4.29': 'too_many_requests',
  '5.00': 'internal_server_error',
  '5.01': 'not_implemented',
  '5.02': 'bad_gateway',
  '5.03': 'service_unavailable',
  '5.04': 'gateway_timeout',
  '5.05': 'proxying_not_supported',
};
