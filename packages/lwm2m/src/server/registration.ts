import type { PeerAddress, PeerIdentity } from '@m2mhub/core';

export type Lwm2mVersion = '1.0' | '1.1' | '1.2';
export const SUPPORTED_VERSIONS: readonly Lwm2mVersion[] = ['1.0', '1.1', '1.2'];

/** One object the client listed in its registration payload (LwM2M Core §6.2.1). */
export interface RegisteredObject {
  id: number;
  /** `ver=` attribute; absent means the version of the client's LwM2M enabler. */
  version?: string;
  /** Instance ids listed as `</id/inst>`, ascending. */
  instances: number[];
}

/**
 * A registration as the server keeps it (and as a RegistrationStore persists it): plain JSON
 * data, no methods, so any store can serialize it. Times are wall-clock milliseconds so a
 * registration restored after a restart expires at the same moment.
 */
export interface Registration {
  /** Generated, random; the `rd/<id>` Location-Path (not the endpoint name). */
  id: string;
  endpoint: string;
  /** Seconds (LwM2M Core §6.2.1 `lt`, default 86400). */
  lifetime: number;
  lwm2mVersion: Lwm2mVersion;
  /** Binding mode as sent (`U`, `UQ`, `S`, `T`...); `U` when absent. */
  binding: string;
  /** Queue mode: `Q` in the 1.0 binding, or the 1.1 `Q` query flag. */
  queueMode: boolean;
  smsNumber?: string;
  /** Alternate path announced by `rt="oma.lwm2m"` (LwM2M Core §6.2.1.1); "/" when none. */
  alternatePath: string;
  /** Preferred content format announced by `ct=` on the root link. */
  contentFormat?: number;
  objects: RegisteredObject[];
  address: PeerAddress;
  peerKey: string;
  transport: 'udp' | 'dtls' | 'memory';
  identity?: PeerIdentity;
  /** Name of the CoAP endpoint (listener) the device talks to, when the server has several. */
  listener: string;
  registeredAt: number;
  lastUpdate: number;
  expiresAt: number;
}

/** The `ver=` versions of the registered objects, for typing decoded values (DecodeContext.versions). */
export function objectVersions(reg: Registration): Map<number, string> {
  const m = new Map<number, string>();
  for (const o of reg.objects) if (o.version !== undefined) m.set(o.id, o.version);
  return m;
}

/** `</3/0>` style link strings of the registration (as EMQX publishes `objectList`). */
export function objectLinks(reg: Registration): string[] {
  const out: string[] = [];
  for (const o of reg.objects) {
    if (o.instances.length === 0) out.push(`</${o.id}>`);
    for (const i of o.instances) out.push(`</${o.id}/${i}>`);
  }
  return out;
}
