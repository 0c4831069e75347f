/**
 * The authentication/authorization port of the broker and a rule-based implementation
 * (users + ACL rules) whose data sources are ports too: the hub backs them with
 * `@m2mhub/store` (the broker may not import store, DESIGN.md §2).
 */
import { BrokerErrors } from './errors';
import { verifyPassword } from './password';
import { filterCovers, filtersIntersect, isValidFilter, topicMatches } from './topic';

export interface ClientInfo {
  clientId: string;
  username?: string;
  remoteAddress?: string;
}

export type AuthResult = { ok: true } | { ok: false; reason: 'bad_credentials' | 'not_authorized' };

/** What the broker asks on CONNECT, PUBLISH and SUBSCRIBE. */
export interface AuthProvider {
  authenticate(client: ClientInfo, password: Buffer | undefined): Promise<AuthResult>;
  authorizePublish(client: ClientInfo, topic: string): Promise<boolean> | boolean;
  authorizeSubscribe(client: ClientInfo, filter: string): Promise<boolean> | boolean;
}

/** Lets everyone in and allows everything (the default without authentication). */
export const allowAllAuth: AuthProvider = {
  authenticate: async () => ({ ok: true }),
  authorizePublish: () => true,
  authorizeSubscribe: () => true,
};

export interface MqttUser {
  username: string;
  /** `scrypt$N$r$p$salt$hash` (see `hashPassword`). */
  passwordHash: string;
}

export interface UserSource {
  findUser(username: string): Promise<MqttUser | undefined>;
}

export type AclAction = 'publish' | 'subscribe' | 'all';

/**
 * One ACL rule. Rules are evaluated in order; the first rule whose who-part (username,
 * clientid) matches and whose topics match decides. `topics` are filters that may hold
 * `${username}` and `${clientid}`.
 */
export interface AclRule {
  permission: 'allow' | 'deny';
  action: AclAction;
  topics: string[];
  /** Applies only to this user (absent: everyone). */
  username?: string;
  /** Applies only to this client id (absent: everyone). */
  clientid?: string;
}

export interface AclSource {
  rules(): Promise<AclRule[]> | AclRule[];
}

export interface RuleAuthOptions {
  /** When false, every client may connect and no password is checked. */
  authentication: boolean;
  /** With authentication on, may a client without a user name connect? */
  allowAnonymous: boolean;
  users: UserSource;
  acl: AclSource;
  /** Decision when no rule matches (EMQX's `authorization.no_match`). */
  noMatch: 'allow' | 'deny';
}

// A fixed hash to verify against when the user does not exist, so timing does not reveal which names exist.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

// The placeholder syntax of EMQX and of DESIGN.md §3, not JS template strings.
const USERNAME_PH = '$' + '{username}';
const CLIENTID_PH = '$' + '{clientid}';

/** Substitutes placeholders; undefined when a value is missing or could widen the filter. */
function expand(filter: string, client: ClientInfo): string | undefined {
  let out = filter;
  for (const [ph, value] of [
    [USERNAME_PH, client.username],
    [CLIENTID_PH, client.clientId],
  ] as const) {
    if (!out.includes(ph)) continue;
    // A user name like "a/#" must not turn "devices/${username}" into a wildcard.
    if (value === undefined || value === '' || /[/#+\u0000]/.test(value)) return undefined;
    out = out.split(ph).join(value);
  }
  return isValidFilter(out) ? out : undefined;
}

function who(rule: AclRule, client: ClientInfo): boolean {
  if (rule.username !== undefined && rule.username !== client.username) return false;
  if (rule.clientid !== undefined && rule.clientid !== client.clientId) return false;
  return true;
}

export function evaluateAcl(
  rules: readonly AclRule[],
  client: ClientInfo,
  action: 'publish' | 'subscribe',
  topic: string,
  noMatch: 'allow' | 'deny',
): boolean {
  for (const rule of rules) {
    if (rule.action !== 'all' && rule.action !== action) continue;
    if (!who(rule, client)) continue;
    for (const raw of rule.topics) {
      const f = expand(raw, client);
      if (f === undefined) continue;
      let hit: boolean;
      if (action === 'publish') hit = topicMatches(f, topic);
      // An allow rule must cover the whole subscription; a deny rule applies to any overlap.
      else hit = rule.permission === 'allow' ? filterCovers(f, topic) : filtersIntersect(f, topic);
      if (hit) return rule.permission === 'allow';
    }
  }
  return noMatch === 'allow';
}

export function createRuleAuthProvider(opts: RuleAuthOptions): AuthProvider {
  return {
    async authenticate(client, password) {
      if (!opts.authentication) return { ok: true };
      if (client.username === undefined) return opts.allowAnonymous ? { ok: true } : { ok: false, reason: 'not_authorized' };
      const user = await opts.users.findUser(client.username);
      let ok = false;
      try {
        ok = await verifyPassword(password ?? Buffer.alloc(0), user?.passwordHash ?? DUMMY_HASH);
      } catch (err) {
        if (!BrokerErrors.badPasswordHash.is(err)) throw err;
      }
      return ok && user ? { ok: true } : { ok: false, reason: 'bad_credentials' };
    },
    async authorizePublish(client, topic) {
      return evaluateAcl(await opts.acl.rules(), client, 'publish', topic, opts.noMatch);
    },
    async authorizeSubscribe(client, filter) {
      return evaluateAcl(await opts.acl.rules(), client, 'subscribe', filter, opts.noMatch);
    },
  };
}

/** A `UserSource`/`AclSource` over fixed lists (config-file users, tests). */
export function staticUsers(users: readonly MqttUser[]): UserSource {
  const byName = new Map(users.map((u) => [u.username, u]));
  return { findUser: async (name) => byName.get(name) };
}

export function staticAcl(rules: readonly AclRule[]): AclSource {
  return { rules: () => [...rules] };
}
