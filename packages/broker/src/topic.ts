/**
 * MQTT 3.1.1 topic names and filters (§4.7). Pure functions.
 */
import { BrokerErrors } from './errors';

/** [MQTT-4.7.1-1..3] a filter uses `#` only as the whole last level and `+` only as a whole level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return false;
    if (l.includes('+') && l !== '+') return false;
  }
  return true;
}

/** [MQTT-3.3.2-2] a topic name carries no wildcard. */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && !/[#+\u0000]/.test(topic);
}

export function assertTopic(topic: string): void {
  if (!isValidTopic(topic)) throw BrokerErrors.invalidTopic(JSON.stringify(topic));
}

export function assertFilter(filter: string): void {
  if (!isValidFilter(filter)) throw BrokerErrors.invalidTopic(JSON.stringify(filter));
}

/** Does `filter` match the topic name `topic`? [MQTT-4.7.2-1]: wildcards at the start never match `$` topics. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const fl = f[i]!;
    if (fl === '#') return true; // [MQTT-4.7.1-2] also matches the parent level
    if (i >= t.length) return false;
    if (fl !== '+' && fl !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Is every topic matched by `inner` also matched by `outer`? (An ACL allow rule must cover a subscription.) */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    const ol = o[i]!;
    if (ol === '#') return true;
    if (i >= n.length) return false;
    const nl = n[i]!;
    if (nl === '#') return false;
    if (ol === '+') continue;
    if (nl === '+' || nl !== ol) return false;
  }
  return o.length === n.length;
}

/** Can some topic be matched by both filters? (An ACL deny rule applies to a subscription that overlaps it.) */
export function filtersIntersect(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    if (i >= x.length || i >= y.length) {
      // One filter ended: they meet only if the other ends too or goes on with `#` (parent match).
      const rest = i < x.length ? x[i] : i < y.length ? y[i] : undefined;
      return rest === undefined || rest === '#';
    }
    const xl = x[i]!;
    const yl = y[i]!;
    if (xl === '#' || yl === '#') return true;
    if (xl === '+' || yl === '+' || xl === yl) continue;
    return false;
  }
}
