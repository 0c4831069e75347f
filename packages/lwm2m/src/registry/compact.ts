import type { ObjectModel, ResourceModel } from '../model/types';
import type { ResourceType } from '../node/value';

/** [id, name, operations, multiple, mandatory, type, rangeEnumeration, units] */
export type CompactResource = [number, string, ResourceModel['operations'], 0 | 1, 0 | 1, ResourceType, string, string];
/** [id, name, version, lwm2mVersion, multiple, mandatory, urn, resources] */
export type CompactObject = [number, string, string, string, 0 | 1, 0 | 1, string, CompactResource[]];

/** The compact array form of the generated registry (`objects.json`), without descriptions. */
export function encodeObjects(objects: ObjectModel[]): CompactObject[] {
  return objects.map((o) => [
    o.id,
    o.name,
    o.version,
    o.lwm2mVersion ?? '',
    o.multiple ? 1 : 0,
    o.mandatory ? 1 : 0,
    o.urn ?? '',
    [...o.resources.values()].map(
      (r): CompactResource => [
        r.id,
        r.name,
        r.operations,
        r.multiple ? 1 : 0,
        r.mandatory ? 1 : 0,
        r.type,
        r.rangeEnumeration ?? '',
        r.units ?? '',
      ],
    ),
  ]);
}

export function decodeObjects(rows: CompactObject[]): ObjectModel[] {
  return rows.map(([id, name, version, lwm2mVersion, multiple, mandatory, urn, res]) => {
    const o: ObjectModel = { id, name, version, multiple: multiple === 1, mandatory: mandatory === 1, resources: new Map() };
    if (lwm2mVersion) o.lwm2mVersion = lwm2mVersion;
    if (urn) o.urn = urn;
    for (const [rid, rname, operations, rmul, rman, type, range, units] of res) {
      const r: ResourceModel = { id: rid, name: rname, operations, multiple: rmul === 1, mandatory: rman === 1, type };
      if (range) r.rangeEnumeration = range;
      if (units) r.units = units;
      o.resources.set(rid, r);
    }
    return o;
  });
}
