import { ContentFormat } from '@m2mhub/lwm2m';
import type { SimDeviceOptions } from './device';
import { EXEC, ObjectTree, type TreeSpec } from './object-tree';

/** The Device object (3) instance 0 with the usual resources (LwM2M Core Appendix E.4). */
export function deviceObject(serial = '345000123'): TreeSpec[number][number] {
  return {
    0: 'Open Mobile Alliance',
    1: 'Lightweight M2M Client',
    2: serial,
    3: '1.0',
    4: EXEC,
    5: EXEC,
    6: [1, 5],
    7: [3800, 5000],
    8: [125, 900],
    9: 100,
    10: 15,
    11: [0],
    12: EXEC,
    13: 1_764_000_000,
    14: '+01:00',
    15: 'Europe/Berlin',
    16: 'U',
  };
}

/**
 * The Wakaama example client's shape (fixtures/real-clients README): LwM2M 1.1, b=U, lt=300,
 * `</>;rt="oma.lwm2m";ct=110`, objects /1/0, /2/0, /3/0, /4/0, /5/0, /6/0, /7/0 and the custom
 * object 31024 with instances 10, 11, 12; SenML JSON for multiple values, text for one.
 */
export function wakaamaProfile(endpoint: string): Omit<SimDeviceOptions, 'server'> {
  const tree = ObjectTree.from(
    {
      1: { 0: { 0: 123, 1: 300, 2: 0, 3: 0, 5: 86400, 6: false, 7: 'U', 8: EXEC } },
      2: { 0: { 0: 3, 1: 0, 2: 1, 3: 123 } },
      3: { 0: deviceObject() },
      4: { 0: { 0: 0, 1: [0], 2: 90, 3: 50 } },
      5: { 0: { 1: 'coap://example.org/fw', 2: EXEC, 3: 0, 5: 0 } },
      6: { 0: { 0: 27.98, 1: 86.3 } },
      7: { 0: { 0: 'Vodafone', 1: 'Service', 2: 'Line1', 3: 'SIM' } },
      31024: { 10: { 1: 'ten', 2: 10 }, 11: { 1: 'eleven', 2: 11 }, 12: { 1: 'twelve', 2: 12 } },
    },
    { 1: '1.1', 31024: '1.0' },
  );
  return {
    endpoint,
    tree,
    lwm2mVersion: '1.1',
    binding: 'U',
    lifetime: 300,
    rootLink: `</>;rt="oma.lwm2m";ct=${ContentFormat.SENML_JSON}`,
    formats: {
      multi: ContentFormat.SENML_JSON,
      single: ContentFormat.TEXT,
      supported: [ContentFormat.TEXT, ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR],
    },
  };
}

/** A small device of a given LwM2M version: /1/0, /3/0 and a temperature sensor /3303/0. */
export function basicProfile(endpoint: string, lwm2mVersion: '1.0' | '1.1' | '1.2' = '1.1'): Omit<SimDeviceOptions, 'server'> {
  const tree = ObjectTree.from({
    1: { 0: { 0: 1, 1: 300, 6: false, 7: 'U' } },
    3: { 0: deviceObject() },
    3303: { 0: { 5700: 21.5, 5701: 'Cel', 5750: 'Outdoor' } },
  });
  return {
    endpoint,
    tree,
    lwm2mVersion,
    binding: 'U',
    lifetime: 300,
    formats: {
      multi: lwm2mVersion === '1.0' ? ContentFormat.TLV : ContentFormat.SENML_CBOR,
      single: ContentFormat.TEXT,
    },
  };
}
