/**
 * Auto-observe (DESIGN.md §3, as EMQX): `true` observes each registered object instance
 * except objects 0, 1, 2, 4, 5, 6, 7, 9, 15 and objects without a definition; a list observes
 * those of its paths the device registered.
 */
import type { ModelProvider } from '@m2mhub/lwm2m';

export const AUTO_OBSERVE_IGNORED = new Set([0, 1, 2, 4, 5, 6, 7, 9, 15]);

export function autoObservePaths(mode: boolean | string[], objectList: string[], model: ModelProvider): string[] {
  if (mode === false) return [];
  if (Array.isArray(mode)) return mode.filter((p) => objectList.includes(p));
  return objectList.filter((p) => {
    const segs = p.split('/').filter(Boolean);
    if (segs.length !== 2) return false; // object instances only
    const oid = Number(segs[0]);
    if (!Number.isInteger(oid) || AUTO_OBSERVE_IGNORED.has(oid)) return false;
    return model.getObject(oid) !== undefined;
  });
}
