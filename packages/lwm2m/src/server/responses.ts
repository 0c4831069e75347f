import { CODE_NAMES } from '@m2mhub/coap';
import type { ResourceValue } from '../node/value';

/** snake_case name of a CoAP response code (one table, in @m2mhub/coap). */
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
