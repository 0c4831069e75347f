/** RFC 7641 client-side helpers. */

/** RFC 7641 §3.4: the Observe sequence window (2^23) and the 128-second freshness horizon. */
export const OBSERVE_WINDOW = 1 << 23;
export const OBSERVE_FRESHNESS_MS = 128_000;

/**
 * RFC 7641 §3.4: is notification (v2 at t2) newer than the last one accepted (v1 at t1)?
 * `(V1 < V2 and V2 - V1 < 2^23) or (V1 > V2 and V1 - V2 > 2^23) or (T2 > T1 + 128 seconds)`.
 */
export function isFresh(v1: number, t1: number, v2: number, t2: number): boolean {
  return (v1 < v2 && v2 - v1 < OBSERVE_WINDOW) || (v1 > v2 && v1 - v2 > OBSERVE_WINDOW) || t2 > t1 + OBSERVE_FRESHNESS_MS;
}
