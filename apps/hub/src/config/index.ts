/**
 * The hub's config: every section composed into one schema, loaded from defaults < file
 * < environment < flags (DESIGN.md §1). Add a section: write `config/<name>.ts`, add it below.
 */
import { lwm2mSection } from './lwm2m';
import { mqttSection } from './mqtt';
import { dirPath, type ConfigOf } from './schema';
import { adminPasswordField, apiSection, clusterSection, logSection, shutdownSection, storeSection } from './sections';

export const hubSchema = {
  data_dir: dirPath('./data', 'directory holding all durable state (store, MQTT sessions)'),
  mqtt: mqttSection,
  lwm2m: lwm2mSection,
  api: apiSection,
  admin_password: adminPasswordField,
  store: storeSection,
  cluster: clusterSection,
  log: logSection,
  shutdown: shutdownSection,
};

export type HubConfig = ConfigOf<typeof hubSchema>;
export type { ConfigUser } from './mqtt';
export { ConfigError, ConfigErrors, configReference, defaultConfig, helpText, loadConfig, type LoadSources } from './load';
