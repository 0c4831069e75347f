/**
 * Reply shaping (DESIGN.md §3, EMQX's `emqx_lwm2m_cmd`): a reply is the command with `data`
 * replaced by `{reqPath, code, codeMsg, content?}`; every other top-level field of the command
 * is echoed back. Uplink messages carry the endpoint in a top-level `ep`.
 */
import { CODE_NAMES } from '@m2mhub/coap';

/** EMQX's snake_case name of a CoAP response code (RFC 7252 §12.1.2); 'unknown' for a code it has no name for, as EMQX. */
export function codeMsg(code: string): string {
  return CODE_NAMES[code] ?? 'unknown';
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
