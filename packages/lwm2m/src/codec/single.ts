/**
 * Helpers shared by the formats that carry one value for one resource (text/plain, opaque,
 * CBOR): the request must target a resource or resource instance (LwM2M Core §7.3).
 */
import { Lwm2mErrors } from '../node/errors';
import { Lwm2mPath } from '../node/path';
import type { ResourceValue } from '../node/value';
import type { EncodeContext } from './types';

export function requireLeafPath(path: Lwm2mPath, format: string): void {
  if (path.level !== 'resource' && path.level !== 'resourceInstance') {
    throw Lwm2mErrors.notAcceptable(`${format} carries a single resource value, not ${path.level} ${path}`);
  }
}

/** The one value to encode for `ctx.path`, and its path. */
export function singleValue(values: ResourceValue[], ctx: EncodeContext, format: string): [ResourceValue, Lwm2mPath] {
  requireLeafPath(ctx.path, format);
  if (values.length !== 1) throw Lwm2mErrors.notAcceptable(`${format} carries exactly one value, got ${values.length}`);
  const v = values[0]!;
  const p = Lwm2mPath.parse(v.path);
  if (!p.startsWith(ctx.path) || !ctx.path.startsWith(p)) {
    throw Lwm2mErrors.notAcceptable(`${format}: value path ${v.path} is not the request path ${ctx.path}`);
  }
  return [v, p];
}

export function leaf(path: Lwm2mPath, value: ResourceValue['value'], type: ResourceValue['type']): ResourceValue {
  const rv: ResourceValue = { path: path.toString(), value };
  if (type !== undefined) rv.type = type;
  return rv;
}
