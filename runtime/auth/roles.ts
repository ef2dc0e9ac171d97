/**
 * Who may do what: the three roles, the signed-in principal every route and the broker see, and the checks written
 * once. Ranks are ordered: an admin may do what an operator may, an operator what a viewer may.
 *
 * - viewer: live view, events, alerts, summaries — read only;
 * - operator: also acknowledge and retry alerts, suspend notifications, trigger and pause jobs, keep events;
 * - admin: also users, API keys, settings, updates, flows (only an admin deploys in the editor).
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route or a broker action needs: a role, or `public` (health checks and sign-in only). */
export type Access = Role | 'public';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Whether `have` grants what `need` asks for. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** How a request or connection proved who it is. */
export type CredentialKind = 'password' | 'token' | 'session' | 'key';

/** The signed-in user (or API key) behind a request or an MQTT connection. */
export interface Principal {
  /** The user's name; for an API key, the name of the user who created it. */
  username: string;
  role: Role;
  /** The cameras it may see, or null for all of them. */
  cameras: readonly string[] | null;
  via: CredentialKind;
  /** The API key's id when `via` is `key`. */
  keyId?: string;
}

/** Whether the principal may see (and, with the role for it, act on) this camera. */
export function mayUseCamera(principal: Pick<Principal, 'cameras'>, camera: string): boolean {
  return principal.cameras === null || principal.cameras.includes(camera);
}

/** Words for a 403: what was needed and what the caller has. */
export function roleRefusal(principal: Pick<Principal, 'username' | 'role' | 'via'>, need: Role, what: string): string {
  const who = principal.via === 'key' ? `this API key (role ${principal.role})` : `user "${principal.username}" (role ${principal.role})`;
  return `${what} needs the ${need} role; ${who} does not have it`;
}
