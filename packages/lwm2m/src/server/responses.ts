import type { ResourceValue } from '../node/value';

/** RFC 7252 §12.1.2 response codes (plus RFC 7959, RFC 8132) by their snake_case names. */
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
  '5.00': 'internal_server_error',
  '5.01': 'not_implemented',
  '5.02': 'bad_gateway',
  '5.03': 'service_unavailable',
  '5.04': 'gateway_timeout',
  '5.05': 'proxying_not_supported',
};

export function codeName(code: string): string {
  return CODE_NAMES[code] ?? `code_${code.replace('.', '_')}`;
}

/**
 * What a device answered, with a named outcome (`code` "2.05", `codeName` "content").
 * `ok` is true for a 2.xx whose payload (if any) decoded; a 2.05 with a payload that does not
 * decode has `ok: false` and `error` set (the raw bytes stay in `payload`).
 */
export interface DeviceResponse {
  code: string;
  codeName: string;
  ok: boolean;
  contentFormat?: number;
  /** Decoded content of read / read-composite / observe (typed by the object model). */
  content?: ResourceValue[];
  /** Discover: the link strings, e.g. `</3/0/1>` or `</3/0/9>;pmin=5`. */
  links?: string[];
  /** Create: the new instance path, e.g. "/31024/20". */
  location?: string;
  /** Observe / observe-composite: the observation id (token hex) to cancel with. */
  observationId?: string;
  /** Raw payload as received (for logs, opaque passthrough). */
  payload?: Uint8Array;
  /** Why `ok` is false beyond the code (decode failure): stable code and text. */
  error?: { code: string; message: string };
}

export function isSuccess(code: string): boolean {
  return code.startsWith('2.');
}
