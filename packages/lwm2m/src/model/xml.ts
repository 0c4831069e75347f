import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { Lwm2mErrors } from '../node/errors';
import type { ResourceType } from '../node/value';
import type { ObjectModel, ResourceModel } from './types';

/** Limits of the OMA object XML loader; each is a config option with a default. */
export interface ObjectXmlOptions {
  /** Largest XML file accepted, in bytes (the biggest registry object is ~100 kB). */
  maxXmlBytes?: number;
  /** Most `<Item>` resources per object (ids are 16-bit). */
  maxResources?: number;
  /** Most objects one file may define. */
  maxObjectsPerFile?: number;
  /** Most files read from one directory. */
  maxFiles?: number;
  /** Keep `<Description>` texts (off keeps memory small). */
  descriptions?: boolean;
}

export const DEFAULT_OBJECT_XML_OPTIONS: Required<ObjectXmlOptions> = {
  maxXmlBytes: 1024 * 1024,
  maxResources: 4096,
  maxObjectsPerFile: 64,
  maxFiles: 10_000,
  descriptions: true,
};

const TYPE_NAMES: Record<string, ResourceType> = {
  string: 'string',
  integer: 'integer',
  'unsigned integer': 'unsignedInteger',
  unsignedinteger: 'unsignedInteger',
  float: 'float',
  boolean: 'boolean',
  opaque: 'opaque',
  time: 'time',
  objlnk: 'objlnk',
  corelnk: 'corelnk',
  '': 'none',
  none: 'none',
};

/** Maps an XML `<Type>` text ("Unsigned Integer", "Objlnk", "") to a ResourceType. */
export function parseResourceType(text: string): ResourceType | undefined {
  return TYPE_NAMES[text.trim().toLowerCase()];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: false,
  isArray: (name) => name === 'Object' || name === 'Item',
});

type XmlNode = Record<string, unknown>;

function text(node: XmlNode, key: string): string {
  const v = node[key];
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && typeof (v as XmlNode)['#text'] === 'string') return ((v as XmlNode)['#text'] as string).trim();
  return '';
}

function flag(node: XmlNode, key: string, yes: string, no: string, where: string): boolean {
  const v = text(node, key).toLowerCase();
  if (v === yes.toLowerCase()) return true;
  if (v === no.toLowerCase() || v === '') return false;
  throw Lwm2mErrors.badObjectXml(`${where}: <${key}> is "${v}", expected ${yes} or ${no}`);
}

function id(v: string, where: string): number {
  if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65534) throw Lwm2mErrors.badObjectXml(`${where}: bad id "${v}"`);
  return Number(v);
}

function optional<T extends object>(o: T, key: string, v: string): void {
  if (v !== '') (o as Record<string, unknown>)[key] = v;
}

/**
 * Parses the text of an OMA object definition file (LwM2M Core Appendix D, the format of
 * the OMNA registry) into its objects. Throws M2M_LWM2M_BAD_OBJECT_XML naming `source`.
 */
export function parseObjectXml(xml: string, source = 'XML', opts: ObjectXmlOptions = {}): ObjectModel[] {
  const o = { ...DEFAULT_OBJECT_XML_OPTIONS, ...opts };
  if (typeof xml !== 'string') throw Lwm2mErrors.badObjectXml(`${source}: not a string`);
  if (Buffer.byteLength(xml) > o.maxXmlBytes) {
    throw Lwm2mErrors.badObjectXml(`${source}: larger than ${o.maxXmlBytes} bytes`);
  }
  let doc: XmlNode;
  try {
    doc = parser.parse(xml, true) as XmlNode;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw Lwm2mErrors.badObjectXml(`${source}: ${msg}`, { cause: err });
  }
  const root = doc.LWM2M as XmlNode | undefined;
  if (!root || typeof root !== 'object') throw Lwm2mErrors.badObjectXml(`${source}: no <LWM2M> root element`);
  const objects = (root.Object as XmlNode[] | undefined) ?? [];
  if (objects.length === 0) throw Lwm2mErrors.badObjectXml(`${source}: no <Object> element`);
  if (objects.length > o.maxObjectsPerFile) throw Lwm2mErrors.badObjectXml(`${source}: too many objects`);
  return objects.map((obj) => parseObject(obj, source, o));
}

function parseObject(obj: XmlNode, source: string, o: Required<ObjectXmlOptions>): ObjectModel {
  const idText = text(obj, 'ObjectID');
  const objectId = id(idText, `${source} <ObjectID>`);
  const where = `${source} object ${objectId}`;
  const name = text(obj, 'Name');
  if (name === '') throw Lwm2mErrors.badObjectXml(`${where}: no <Name>`);
  const model: ObjectModel = {
    id: objectId,
    name,
    version: text(obj, 'ObjectVersion') || '1.0',
    multiple: flag(obj, 'MultipleInstances', 'Multiple', 'Single', where),
    mandatory: flag(obj, 'Mandatory', 'Mandatory', 'Optional', where),
    resources: new Map(),
  };
  if (!/^[0-9]{1,3}\.[0-9]{1,3}$/.test(model.version)) {
    throw Lwm2mErrors.badObjectXml(`${where}: bad <ObjectVersion> "${model.version}"`);
  }
  optional(model, 'lwm2mVersion', text(obj, 'LWM2MVersion'));
  optional(model, 'urn', text(obj, 'ObjectURN'));
  if (o.descriptions) optional(model, 'description', text(obj, 'Description1'));
  const resources = obj.Resources as XmlNode | string | undefined;
  const items = resources && typeof resources === 'object' ? ((resources.Item as XmlNode[] | undefined) ?? []) : [];
  if (items.length > o.maxResources) throw Lwm2mErrors.badObjectXml(`${where}: more than ${o.maxResources} resources`);
  for (const item of items) {
    const rid = id(String(item['@ID'] ?? ''), `${where} <Item ID>`);
    const rwhere = `${where} resource ${rid}`;
    if (model.resources.has(rid)) throw Lwm2mErrors.badObjectXml(`${rwhere}: defined twice`);
    const typeText = text(item, 'Type');
    const type = parseResourceType(typeText);
    if (type === undefined) throw Lwm2mErrors.badObjectXml(`${rwhere}: unknown <Type> "${typeText}"`);
    const ops = text(item, 'Operations').toUpperCase();
    if (ops !== 'R' && ops !== 'W' && ops !== 'RW' && ops !== 'E' && ops !== '') {
      throw Lwm2mErrors.badObjectXml(`${rwhere}: bad <Operations> "${ops}"`);
    }
    const res: ResourceModel = {
      id: rid,
      name: text(item, 'Name'),
      operations: ops,
      multiple: flag(item, 'MultipleInstances', 'Multiple', 'Single', rwhere),
      mandatory: flag(item, 'Mandatory', 'Mandatory', 'Optional', rwhere),
      type,
    };
    optional(res, 'rangeEnumeration', text(item, 'RangeEnumeration'));
    optional(res, 'units', text(item, 'Units'));
    if (o.descriptions) optional(res, 'description', text(item, 'Description'));
    model.resources.set(rid, res);
  }
  return model;
}

/** Result of loading a directory: the objects, plus every file that failed with its error. */
export interface LoadDirResult {
  objects: ObjectModel[];
  errors: { file: string; error: Error }[];
}

/**
 * Reads every `*.xml` file of `dir` (not recursive). A broken file never aborts the others:
 * it is listed in `errors` with an M2M_LWM2M_BAD_OBJECT_XML error naming the file.
 */
export function loadObjectsFromDir(dir: string, opts: ObjectXmlOptions = {}): LoadDirResult {
  const o = { ...DEFAULT_OBJECT_XML_OPTIONS, ...opts };
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.xml'))
    .sort();
  if (files.length > o.maxFiles) throw Lwm2mErrors.badObjectXml(`${dir}: more than ${o.maxFiles} XML files`);
  const result: LoadDirResult = { objects: [], errors: [] };
  for (const f of files) {
    const file = join(dir, f);
    try {
      const st = statSync(file);
      if (!st.isFile()) continue;
      if (st.size > o.maxXmlBytes) throw Lwm2mErrors.badObjectXml(`${file}: larger than ${o.maxXmlBytes} bytes`);
      result.objects.push(...parseObjectXml(readFileSync(file, 'utf8'), file, o));
    } catch (err) {
      const error = Lwm2mErrors.badObjectXml.is(err)
        ? err
        : Lwm2mErrors.badObjectXml(`${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      result.errors.push({ file, error });
    }
  }
  return result;
}
