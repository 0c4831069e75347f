/**
 * Reply shaping (DESIGN.md §3, EMQX's `emqx_lwm2m_cmd`): a reply is the command with `data`
 * replaced by `{reqPath, code, codeMsg, content?}`; every other top-level field of the command
 * is echoed back. Uplink messages carry the endpoint in a top-level `ep`.
 */

/** RFC 7252 §12.1.2 response codes (plus RFC 7959/8132/8323 additions) by snake_case name, as EMQX names them. */
const CODE_MSG: Record<string, string> = {
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

export function codeMsg(code: string): string {
  return CODE_MSG[code] ?? 'unknown';
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface ContentItem {
  path: string;
  value: Json;
  time?: number;
}

/** The top-level fields of a command other than msgType and data (reqID, imei, ...). */
export function echoFields(cmd: JsonObject | undefined, out: JsonObject = {}): JsonObject {
  if (!cmd) return out;
  // for...in over a parsed JSON object (own keys only): no entries array per reply. A
  // "__proto__" key would set the reply's prototype instead of a field: not echoed.
  for (const k in cmd) if (k !== 'msgType' && k !== 'data' && k !== 'ep' && k !== '__proto__') out[k] = cmd[k]!;
  return out;
}

export interface ReplyData {
  reqPath: string;
  code: string;
  codeMsg: string;
  content?: Json;
  error?: string;
}

/** A reply to `cmd` (the parsed JSON command, possibly partial when it was invalid). */
export function makeReply(
  ep: string,
  msgType: string,
  cmd: JsonObject | undefined,
  reqPath: string,
  code: string,
  extra: { content?: Json; error?: string } = {},
): JsonObject {
  const data: JsonObject = { reqPath, code, codeMsg: codeMsg(code) };
  if (extra.content !== undefined) data.content = extra.content;
  if (extra.error !== undefined) data.error = extra.error;
  const out = echoFields(cmd);
  out.msgType = msgType;
  out.data = data;
  out.ep = ep;
  return out;
}

/**
 * EMQX's `ack`, `coap_timeout` and `coap_reset`: the command itself (data unchanged) with
 * `msgType` replaced.
 */
export function makeCommandEcho(ep: string, msgType: string, cmd: JsonObject): JsonObject {
  const out = echoFields(cmd);
  out.msgType = msgType;
  out.ep = ep;
  if (cmd.data !== undefined) out.data = cmd.data;
  return out;
}

export function encodeJson(obj: JsonObject): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(obj));
}
