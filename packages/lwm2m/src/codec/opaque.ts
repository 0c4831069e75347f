/** application/octet-stream (42): the raw bytes of an Opaque resource (LwM2M Core §7.3.2). */
import { Lwm2mErrors } from '../node/errors';
import type { ResourceValue } from '../node/value';
import { leaf, requireLeafPath, singleValue } from './single';
import { ContentFormat, type ContentCodec, type DecodeContext, type EncodeContext } from './types';
import { resourceType } from './typing';

export class OpaqueCodec implements ContentCodec {
  readonly format: number = ContentFormat.OPAQUE;
  readonly name = 'opaque';
  decode(payload: Uint8Array, ctx: DecodeContext): ResourceValue[] {
    requireLeafPath(ctx.path, this.name);
    const type = resourceType(ctx, ctx.path);
    if (type !== undefined && type !== 'opaque') {
      throw Lwm2mErrors.typeMismatch(`${ctx.path}: opaque content for a ${type} resource`);
    }
    return [leaf(ctx.path, payload.slice(), 'opaque')];
  }
  encode(values: ResourceValue[], ctx: EncodeContext): Uint8Array {
    const [v] = singleValue(values, ctx, this.name);
    if (!(v.value instanceof Uint8Array)) throw Lwm2mErrors.notAcceptable(`${v.path}: only opaque values travel as ${this.name}`);
    return v.value;
  }
}
