/** text/plain (0): one resource value as text (LwM2M Core §7.3.1); the model decides the type. */
import { Lwm2mErrors } from '../node/errors';
import type { ResourceValue } from '../node/value';
import { leaf, requireLeafPath, singleValue } from './single';
import { ContentFormat, type ContentCodec, type DecodeContext, type EncodeContext } from './types';
import { checkValue, encodeType, formatText, parseText, resourceType } from './typing';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(payload: Uint8Array, what: string): string {
  try {
    return utf8.decode(payload);
  } catch {
    throw Lwm2mErrors.malformedPayload(`${what}: not valid UTF-8`);
  }
}

export class TextCodec implements ContentCodec {
  readonly format: number = ContentFormat.TEXT;
  readonly name = 'text/plain';
  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    requireLeafPath(ctx.path, this.name);
    const type = resourceType(ctx, ctx.path);
    const value = parseText(decodeUtf8(payload, this.name), type, ctx.path.toString());
    return [leaf(ctx.path, value, type)];
  }
  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array {
    const [v, p] = singleValue(values, ctx, this.name);
    const type = encodeType(v, p, ctx);
    return new TextEncoder().encode(formatText(checkValue(v.value, type, v.path), type));
  }
}
