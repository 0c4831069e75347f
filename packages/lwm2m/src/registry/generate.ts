/**
 * Builds the built-in object table from a folder of OMNA registry XML files (the work of
 * `scripts/gen-registry.ts`, here so it is typechecked and tested). Keeps the facts (ids,
 * names, versions, operations, types, multiplicity, mandatory, units, ranges), no
 * descriptions. Only files with a licence header are used: the OMA BSD-3-Clause one, or
 * Apache-2.0 for some third-party objects; the others are skipped and listed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectModel } from '../model/types';
import { parseObjectXml } from '../model/xml';
import { encodeObjects } from './compact';

const BSD3 = /Redistribution and use in source and binary forms/;
const APACHE2 = /Apache License[\s\S]{0,200}Version 2\.0/;

const BSD3_TEXT = [
  'Redistribution and use in source and binary forms, with or without modification, are permitted',
  'provided that the following conditions are met: 1. Redistributions of source code must retain the',
  'above copyright notice, this list of conditions and the following disclaimer. 2. Redistributions in',
  'binary form must reproduce the above copyright notice, this list of conditions and the following',
  'disclaimer in the documentation and/or other materials provided with the distribution. 3. Neither the',
  'name of the copyright holder nor the names of its contributors may be used to endorse or promote',
  'products derived from this software without specific prior written permission.',
  'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED',
  'WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A',
  'PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR',
  'ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT',
  'LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS',
  'INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR',
  'TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF',
  'ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.',
];

export interface GeneratedRegistry {
  /** Contents of `objects.json`. */
  json: string;
  /** Contents of `NOTICE`. */
  notice: string;
  objects: ObjectModel[];
  skipped: { file: string; reason: string }[];
}

export function generateRegistry(srcDir: string): GeneratedRegistry {
  const files = readdirSync(srcDir)
    .filter((f) => f.endsWith('.xml'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const skipped: { file: string; reason: string }[] = [];
  const objects: ObjectModel[] = [];
  const copyrights = new Set<string>();
  const apache: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(srcDir, f), 'utf8');
    const licence = BSD3.test(text) ? 'BSD-3-Clause' : APACHE2.test(text) ? 'Apache-2.0' : undefined;
    if (!licence) {
      skipped.push({ file: f, reason: 'no licence header' });
      continue;
    }
    try {
      const parsed = parseObjectXml(text, f, { descriptions: false });
      objects.push(...parsed);
      const c = /Copyright (?:\(c\) )?[0-9]{4}[^\n]*/i.exec(text);
      if (c) copyrights.add(c[0].trim().replace(/\s+/g, ' '));
      if (licence === 'Apache-2.0') apache.push(...parsed.map((o) => String(o.id)));
    } catch (err) {
      skipped.push({ file: f, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  objects.sort((a, b) => a.id - b.id || a.version.localeCompare(b.version));
  const notice = [
    'Object definitions generated from the OMNA LwM2M Registry',
    '(https://github.com/OpenMobileAlliance/lwm2m-registry), by packages/lwm2m/scripts/gen-registry.ts.',
    'Copyright notices of the source files:',
    [...copyrights].sort().join('; '),
    'Except where noted below, the definitions are licensed under the BSD-3-Clause licence:',
    ...BSD3_TEXT,
    '',
    `Objects ${apache.join(', ')} are instead licensed under the Apache License, Version 2.0`,
    '(http://www.apache.org/licenses/LICENSE-2.0) by their copyright holders named above.',
  ].join('\n');
  const schema =
    'objects: [id, name, version, lwm2mVersion, multiple, mandatory, urn, resources]; resources: [id, name, operations, multiple, mandatory, type, rangeEnumeration, units]; 1/0 booleans, "" for absent';
  const rows = encodeObjects(objects);
  const json = `{\n"notice": ${JSON.stringify(notice)},\n"schema": ${JSON.stringify(schema)},\n"objects": [\n${rows.map((o) => JSON.stringify(o)).join(',\n')}\n]}\n`;
  return { json, notice: `${notice}\n`, objects, skipped };
}
