import { signal } from '@preact/signals';
import type { Principal, Role } from '../../runtime/auth/roles';
import { api, whenSignedOut } from './api';

/** The signed-in user, null when signed out, undefined while the first check runs. */
export const me = signal<Principal | null | undefined>(undefined);

whenSignedOut(() => {
  me.value = null;
});

/** Asks who is signed in (the session cookie travels by itself); answers 200 with null when nobody is. */
export async function loadSession(): Promise<void> {
  me.value = (await api<{ user: Principal | null }>('/auth/session')).user;
}

/** Signs in with a password; the server sets the HttpOnly session cookie. Throws ApiError with the reason. */
export async function signIn(username: string, password: string): Promise<void> {
  await api('/auth/login', { method: 'POST', body: { username, password, cookie: true } });
  await loadSession();
}

export async function signOut(): Promise<void> {
  try {
    await api('/auth/logout', { method: 'POST' });
  } finally {
    me.value = null;
  }
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether the signed-in user has at least this role (buttons for more are not shown; the API checks anyway). */
export function can(role: Role): boolean {
  const user = me.value;
  return !!user && RANK[user.role] >= RANK[role];
}
