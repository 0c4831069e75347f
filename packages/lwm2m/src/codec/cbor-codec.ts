/** application/cbor (60): one resource value as a single CBOR data item (LwM2M Core 1.1 §7.3.3). */
import type { ResourceValue } from '../node/value';
import { decodeCbor, encodeCbor, type CborLimits } from './cbor';
import { fromCbor, toCbor } from './cbor-values';
import { leaf, requireLeafPath, singleValue } from './single';
import { ContentFormat, type ContentCodec, type DecodeContext, type EncodeContext } from './types';
import { encodeType, resourceType } from './typing';

export class CborCodec implements ContentCodec {
  readonly format: number = ContentFormat.CBOR;
  readonly name = 'cbor';
  constructor(private readonly limits: CborLimits = {}) {}
  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    requireLeafPath(ctx.path, this.name);
    const type = resourceType(ctx, ctx.path);
    const value = fromCbor(decodeCbor(payload, this.limits), type, ctx.path.toString());
    return [leaf(ctx.path, value, type)];
  }
  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array {
    const [v, p] = singleValue(values, ctx, this.name);
    return encodeCbor(toCbor(v.value, encodeType(v, p, ctx), v.path));
  }
}
