/**
 * Topic templates with EMQX's placeholders (`${endpoint_name}`, `${clientid}`, `${username}`)
 * and MQTT filter matching (MQTT 3.1.1 §4.7).
 */
import { GatewayErrors } from './errors';

export interface TopicVars {
  endpoint_name?: string;
  clientid?: string;
  username?: string;
}

const PLACEHOLDER = /\$\{([a-z_]+)\}/g;
const KNOWN = new Set(['endpoint_name', 'clientid', 'username']);

/** Throws when the template names an unknown placeholder. */
export function checkTemplate(template: string): void {
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(m[1]!)) throw GatewayErrors.badTopic(`unknown placeholder \${${m[1]}} in "${template}"`);
  }
}

/**
 * Fills the placeholders. A value containing MQTT wildcards or separators would let one
 * device reach another's topics, so such characters are replaced by `_`.
 */
export function expandTopic(template: string, vars: TopicVars): string {
  return template.replace(PLACEHOLDER, (_all, name: string) => topicSafe(vars[name as keyof TopicVars] ?? ''));
}

/** A value made safe to stand as (part of) one topic level. */
export function topicSafe(v: string): string {
  return v.replace(/[+#/\u0000]/g, '_');
}

/** MQTT 3.1.1 §4.7: does `filter` match `topic`? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const seg = f[i]!;
    if (seg === '#') return !(i === 0 && t[0]?.startsWith('$'));
    if (i >= t.length) return false;
    if (seg === '+') {
      if (i === 0 && t[0]!.startsWith('$')) return false;
      continue;
    }
    if (seg !== t[i]) return false;
  }
  return f.length === t.length;
}
