import type { ModelProvider } from '../model/types';
import type { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';

/** CoAP Content-Format numbers used by LwM2M (LwM2M Core §7.1, IANA CoAP registry). */
export const ContentFormat = {
  TEXT: 0,
  LINK: 40,
  OPAQUE: 42,
  CBOR: 60,
  SENML_JSON: 110,
  SENML_CBOR: 112,
  TLV: 11542,
  LWM2M_JSON: 11543,
  LWM2M_CBOR: 11544,
  /** Pre-registration numbers used by LwM2M 1.0 era clients. */
  OLD_TLV: 1542,
  OLD_JSON: 1543,
} as const;
export type ContentFormatNumber = (typeof ContentFormat)[keyof typeof ContentFormat];

export interface DecodeContext {
  /** The request path (the payload is relative to it for TLV, text, opaque, CBOR). */
  path: Lwm2mPath;
  model: ModelProvider;
  /** Object versions the client registered (`</3>;ver=1.1`). */
  versions?: Map<number, string>;
}
export interface EncodeContext extends DecodeContext {}

export interface ContentCodec {
  readonly format: number;
  readonly name: string;
  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[];
  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array;
  /** composite (Read-/Write-/Observe-Composite) support: SenML JSON/CBOR, LwM2M CBOR */
  decodePaths?(payload: Uint8Array): Lwm2mPath[];
  encodePaths?(paths: Lwm2mPath[]): Uint8Array;
}
