/**
 * The CBOR form of one typed LwM2M value (LwM2M Core 1.1 §7.3.3 "CBOR", also used inside
 * LwM2M CBOR §7.4.6): Integer/Unsigned/Time as CBOR ints (Time may carry tag 1), Float as a
 * float, Boolean, String/Corelnk as text, Opaque as a byte string, Objlnk as text "O:I".
 */
import { Lwm2mErrors } from '../node/errors';
import { type Lwm2mValue, type ResourceType, isObjlnk } from '../node/value';
import { CborFloat, CborTag, type CborValue } from './cbor';
import { checkValue, parseObjlnk } from './typing';

export function fromCbor(c: CborValue, type: ResourceType | undefined, path: string): Lwm2mValue {
  // RFC 8949 §3.4.2: tag 1 (epoch time) is allowed on Time values.
  if (c instanceof CborTag) {
    if ((c.tag === 1 || c.tag === 1n) && (type === 'time' || type === undefined)) return fromCbor(c.value, 'time', path);
    throw Lwm2mErrors.typeMismatch(`${path}: unexpected CBOR tag ${c.tag}`);
  }
  if (c instanceof CborFloat) return c.value;
  if (type === 'objlnk') {
    if (typeof c !== 'string') throw Lwm2mErrors.typeMismatch(`${path}: objlnk must be a "O:I" text string`);
    return parseObjlnk(c, path);
  }
  if (type === 'time' && typeof c === 'number' && !Number.isInteger(c)) {
    throw Lwm2mErrors.typeMismatch(`${path}: ${c} is not a valid time`);
  }
  if (type === 'float' && typeof c === 'bigint') return Number(c);
  if (
    c === null ||
    c === undefined ||
    Array.isArray(c) ||
    c instanceof Map
  ) {
    throw Lwm2mErrors.typeMismatch(`${path}: a CBOR ${c instanceof Map ? 'map' : Array.isArray(c) ? 'array' : String(c)} is not a resource value`);
  }
  return checkValue(c, type, path);
}

export function toCbor(v: Lwm2mValue, type: ResourceType, path: string): CborValue {
  const checked = checkValue(v, type, path);
  if (isObjlnk(checked)) return `${checked.objectId}:${checked.instanceId}`;
  if (type === 'float' && typeof checked === 'number') return new CborFloat(checked);
  return checked;
}
