import type { ResourceType } from '../node/value';

/** One `<Item>` of an OMA object definition (LwM2M Core Appendix D). */
export interface ResourceModel {
  id: number;
  name: string;
  operations: 'R' | 'W' | 'RW' | 'E' | '';
  multiple: boolean;
  mandatory: boolean;
  type: ResourceType;
  rangeEnumeration?: string;
  units?: string;
  description?: string;
}

/** One `<Object>` of an OMA object definition (LwM2M Core Appendix D). */
export interface ObjectModel {
  id: number;
  name: string;
  /** ObjectVersion, "1.0" when the XML has none. */
  version: string;
  lwm2mVersion?: string;
  multiple: boolean;
  mandatory: boolean;
  urn?: string;
  resources: Map<number, ResourceModel>;
  description?: string;
}

/** Looks up object and resource definitions; `version` selects one ObjectVersion (default: the latest). */
export interface ModelProvider {
  getObject(id: number, version?: string): ObjectModel | undefined;
  getResource(objectId: number, resourceId: number, version?: string): ResourceModel | undefined;
}
