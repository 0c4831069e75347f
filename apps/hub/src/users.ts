/**
 * MQTT users and ACL backed by the store: the broker only knows the `UserSource` /
 * `AclSource` ports; the hub implements them here (DESIGN.md §2 layer order).
 * Config users are written to the store at start-up with scrypt hashes.
 */
import { type AclRule, type AclSource, hashPassword, isPasswordHash, type MqttUser, type UserSource } from '@m2mhub/broker';
import type { Store } from '@m2mhub/store';
import type { ConfigUser } from './config/index';
import { HubErrors } from './errors';

export const USERS_NAMESPACE = 'mqtt.users';
export const ACL_NAMESPACE = 'mqtt.acl';


export function storeUserSource(store: Store): UserSource {
  const kv = store.kv(USERS_NAMESPACE);
  return {
    async findUser(username) {
      if (username.length === 0 || username.length > 256 || username.includes('\u0000')) return undefined;
      const u = await kv.get<{ passwordHash: string }>(username);
      return u ? { username, passwordHash: u.passwordHash } : undefined;
    },
  };
}

/** Writes config users into the store (hashing plain passwords); returns how many. */
export async function seedUsers(store: Store, users: readonly ConfigUser[]): Promise<number> {
  const kv = store.kv(USERS_NAMESPACE);
  const rows: MqttUser[] = [];
  for (const u of users) {
    let passwordHash: string;
    if (u.password_hash !== undefined) {
      if (!isPasswordHash(u.password_hash)) throw HubErrors.badUser(`mqtt.auth.users: password_hash of ${u.username} is not scrypt$N$r$p$salt$hash`);
      passwordHash = u.password_hash;
    } else {
      passwordHash = await hashPassword(u.password ?? '');
    }
    rows.push({ username: u.username, passwordHash });
  }
  await kv.batch(rows.map((r) => ({ type: 'put' as const, key: r.username, value: { passwordHash: r.passwordHash } })));
  return rows.length;
}

/** Config rules first, then rules stored under mqtt.acl/rules (set through the API later), cached until `reload`. */
export async function storeAclSource(store: Store, configRules: readonly AclRule[]): Promise<AclSource & { reload(): Promise<void> }> {
  const kv = store.kv(ACL_NAMESPACE);
  let rules: AclRule[] = [...configRules];
  const reload = async () => {
    rules = [...configRules, ...((await kv.get<AclRule[]>('rules')) ?? [])];
  };
  await reload();
  return { rules: () => rules, reload };
}
