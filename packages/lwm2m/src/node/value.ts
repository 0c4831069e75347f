/** LwM2M Core Appendix C data types, as named in the object XML `<Type>` (lower-camel). */
export type ResourceType =
  | 'string'
  | 'integer'
  | 'unsignedInteger'
  | 'float'
  | 'boolean'
  | 'opaque'
  | 'time'
  | 'objlnk'
  | 'corelnk'
  | 'none';

export interface Objlnk {
  objectId: number;
  instanceId: number;
}

/**
 * A decoded value. Integers are `number` while they are safe integers (|v| <= 2^53-1) and
 * `bigint` beyond that; `time` is a number of seconds since the epoch; `objlnk` is
 * `{objectId, instanceId}`; `opaque` is a Uint8Array; `corelnk` and `string` are strings.
 */
export type Lwm2mValue = string | number | bigint | boolean | Uint8Array | Objlnk;

/** One leaf: a single-instance resource or one resource instance. `time` in seconds since epoch (SenML). */
export interface ResourceValue {
  path: string;
  value: Lwm2mValue;
  type?: ResourceType;
  time?: number;
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  'string',
  'integer',
  'unsignedInteger',
  'float',
  'boolean',
  'opaque',
  'time',
  'objlnk',
  'corelnk',
  'none',
];

export function isObjlnk(v: unknown): v is Objlnk {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof Uint8Array) &&
    typeof (v as Objlnk).objectId === 'number' &&
    typeof (v as Objlnk).instanceId === 'number'
  );
}

/** "O:I" as EMQX and LwM2M text/plain print an object link. */
export function formatObjlnk(v: Objlnk): string {
  return `${v.objectId}:${v.instanceId}`;
}
