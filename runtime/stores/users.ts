import path from 'node:path';
import { Low } from 'lowdb';
import { generatePassword, hashPassword, verifyPassword } from '../auth/passwords';
import { isRole, roleAtLeast, type Principal, type Role } from '../auth/roles';
import { PrivateJsonFile } from './private-json-file';

export type { Role } from '../auth/roles';

/** A signed-in user, as routes and the broker see one (the name older callers import). */
export type User = Principal;

/** A user account as the API lists it: never the password hash. */
export interface UserAccount {
  username: string;
  role: Role;
  /** The cameras this user may see, or null for all of them. */
  cameras: string[] | null;
  createdAt: string;
  passwordChangedAt: string | null;
}

interface StoredUser extends UserAccount {
  passwordHash: string;
  /** Tokens issued at an earlier generation of the store are refused: moved on by a password, role or camera change. */
  tokensFrom: number;
}

interface UsersDocument {
  version: 2;
  /** Counts changes that revoke tokens; tokens carry the value at sign-in. */
  generation: number;
  users: StoredUser[];
  settings: Record<string, unknown>;
  /** Signed-out sessions → when their last token expires anyway (ms); pruned once past. One entry per sign-out. */
  revokedTokens: Record<string, number>;
}

/** Version 1 (before roles beyond admin/viewer): no camera lists, no token revocation. */
interface UsersDocumentV1 {
  version: 1;
  users: { username: string; role: 'admin' | 'viewer'; passwordHash: string; createdAt: string }[];
  settings?: Record<string, unknown>;
}

export interface AdminSeed {
  created: boolean;
  /** Set only when the password was generated on this start: the caller shows it once and stores it 0600. */
  generatedPassword?: string;
}

/** Why a user change was refused; the API maps the kind to a status (400, 404, 409). */
export class UserError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not_found' | 'exists' | 'last_admin' | 'wrong_password',
    message: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

export function checkUsername(username: string): void {
  if (!USERNAME.test(username))
    throw new UserError(
      'invalid',
      `username "${username.slice(0, 80)}": expected 1 to 64 letters, digits, ".", "_", "-" or "@", starting with a letter or digit`,
    );
}

export function checkPassword(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
    throw new UserError('invalid', `${field}: expected ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, got ${password.length}`);
}

function checkCameras(cameras: readonly string[] | null): string[] | null {
  if (cameras === null) return null;
  const bad = cameras.find((c) => typeof c !== 'string' || c.length === 0 || c.length > 128);
  if (bad !== undefined) throw new UserError('invalid', `cameras: expected camera ids of 1 to 128 characters, got "${String(bad).slice(0, 80)}"`);
  return [...new Set(cameras)];
}

function migrate(doc: UsersDocument | UsersDocumentV1): { doc: UsersDocument; changed: boolean } {
  if (doc.version === 2) return { doc, changed: false };
  if (doc.version !== 1) throw new Error(`glimpser.json: version ${String((doc as { version: unknown }).version)} is newer than this Glimpser understands (2)`);
  // Version 1 tokens lack a generation and are refused anyway, so every user starts at 0.
  const users = doc.users.map((u) => ({ ...u, cameras: null, passwordChangedAt: null, tokensFrom: 0 }));
  return { doc: { version: 2, generation: 0, users, settings: doc.settings ?? {}, revokedTokens: {} }, changed: true };
}

/** Users and small settings, a lowdb document in `<dataDir>/glimpser.json` written atomically with mode 0600. */
export class UserStore {
  private readonly db: Low<UsersDocument>;
  private writing: Promise<void> = Promise.resolve();
  private readonly revocationListeners = new Set<() => void>();

  constructor(
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = new Low<UsersDocument>(new PrivateJsonFile<UsersDocument>(path.join(dataDir, 'glimpser.json')), {
      version: 2,
      generation: 0,
      users: [],
      settings: {},
      revokedTokens: {},
    });
  }

  async open(): Promise<void> {
    await this.db.read();
    const { doc, changed } = migrate(this.db.data as UsersDocument | UsersDocumentV1);
    this.db.data = doc;
    if (changed) await this.save();
  }

  /** Creates `admin` on the first start only; a later change of GLIMPSER_ADMIN_PASSWORD does not reset it. */
  async ensureAdmin(password: string | undefined): Promise<AdminSeed> {
    if (this.db.data.users.some((u) => u.role === 'admin')) return { created: false };
    const chosen = password ?? generatePassword();
    this.db.data.users.push(this.newUser('admin', 'admin', null, await hashPassword(chosen)));
    await this.save();
    return { created: true, generatedPassword: password ? undefined : chosen };
  }

  list(): UserAccount[] {
    return this.db.data.users.map(publicView);
  }

  get(username: string): UserAccount | null {
    const found = this.find(username);
    return found ? publicView(found) : null;
  }

  /** The principal a password sign-in of this user gets, or null when the user is gone. */
  principal(username: string, via: Principal['via']): Principal | null {
    const found = this.find(username);
    return found ? { username: found.username, role: found.role, cameras: found.cameras, via } : null;
  }

  /** Returns the user when the password matches, otherwise null (also for unknown users, after the same work). */
  async verify(username: string, password: string): Promise<Principal | null> {
    const found = this.find(username);
    const ok = await verifyPassword(password, found?.passwordHash ?? DUMMY_HASH);
    return found && ok ? { username: found.username, role: found.role, cameras: found.cameras, via: 'password' } : null;
  }

  /** What a token issued now carries, for tokenValid. */
  generation(): number {
    return this.db.data.generation;
  }

  /** Whether a token of this user, of this session and issued at this generation, still holds. */
  tokenValid(username: string, session: string, generation: number): boolean {
    const found = this.find(username);
    return found !== undefined && generation >= found.tokensFrom && this.db.data.revokedTokens[session] === undefined;
  }

  async create(input: { username: string; password: string; role: Role; cameras?: readonly string[] | null }): Promise<UserAccount> {
    checkUsername(input.username);
    checkPassword(input.password);
    if (!isRole(input.role)) throw new UserError('invalid', `role: expected viewer, operator or admin, got "${String(input.role)}"`);
    const cameras = checkCameras(input.cameras ?? null);
    const hash = await hashPassword(input.password);
    // Checked after the hash, so two concurrent creates of one name cannot both pass.
    if (this.find(input.username)) throw new UserError('exists', `username "${input.username}": a user with this name exists`);
    const user = this.newUser(input.username, input.role, cameras, hash);
    // A new user of a deleted one's name must not inherit that user's tokens.
    this.revokeTokensOf(user);
    this.db.data.users.push(user);
    await this.save();
    return publicView(user);
  }

  /** Changes role and/or camera list; either revokes the user's tokens, as the rights they carried changed. */
  async update(username: string, change: { role?: Role; cameras?: readonly string[] | null }): Promise<UserAccount> {
    const user = this.require(username);
    if (change.role !== undefined && !isRole(change.role))
      throw new UserError('invalid', `role: expected viewer, operator or admin, got "${String(change.role)}"`);
    const cameras = change.cameras === undefined ? undefined : checkCameras(change.cameras);
    if (change.role !== undefined && change.role !== 'admin' && user.role === 'admin') this.keepOneAdmin(user, `demoting "${username}" to ${change.role}`);
    if (change.role !== undefined) user.role = change.role;
    if (cameras !== undefined) user.cameras = cameras;
    this.revokeTokensOf(user);
    await this.save();
    return publicView(user);
  }

  async setRole(username: string, role: Role): Promise<UserAccount> {
    return this.update(username, { role });
  }

  async setCameras(username: string, cameras: readonly string[] | null): Promise<UserAccount> {
    return this.update(username, { cameras });
  }

  /** An admin sets a new password: every token of the user stops working. */
  async resetPassword(username: string, password: string): Promise<UserAccount> {
    checkPassword(password);
    this.require(username);
    const hash = await hashPassword(password);
    const user = this.require(username);
    user.passwordHash = hash;
    user.passwordChangedAt = new Date(this.now()).toISOString();
    this.revokeTokensOf(user);
    await this.save();
    return publicView(user);
  }

  /** A user changes their own password, proving the old one first. */
  async changeOwnPassword(username: string, oldPassword: string, newPassword: string): Promise<UserAccount> {
    checkPassword(newPassword, 'newPassword');
    if (!(await this.verify(username, oldPassword))) throw new UserError('wrong_password', 'oldPassword: not the current password');
    return this.resetPassword(username, newPassword);
  }

  async delete(username: string): Promise<void> {
    const user = this.require(username);
    if (user.role === 'admin') this.keepOneAdmin(user, `deleting "${username}"`);
    this.db.data.users = this.db.data.users.filter((u) => u !== user);
    this.announceRevocation();
    await this.save();
  }

  /** Puts a signed-out session on the revocation list until its tokens would have expired anyway. */
  async revokeSession(session: string, until: number): Promise<void> {
    const now = this.now();
    const revoked = this.db.data.revokedTokens;
    for (const [key, until] of Object.entries(revoked)) if (until <= now) delete revoked[key];
    revoked[session] = until;
    this.announceRevocation();
    await this.save();
  }

  /**
   * Calls `listener` after tokens stopped holding (a sign-out, a password, role or camera change, a deleted user), so
   * holders of long-lived connections (the editor's websocket) can make their clients sign in again. Returns the
   * function that stops listening.
   */
  onTokensRevoked(listener: () => void): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }

  /** After the change is in memory (tokenValid reads memory), on a later turn so no listener runs inside a store call. */
  private announceRevocation(): void {
    setImmediate(() => {
      for (const listener of this.revocationListeners) listener();
    });
  }

  async flush(): Promise<void> {
    await this.save();
  }

  /** One write at a time: PrivateJsonFile writes through one temp file name. */
  private save(): Promise<void> {
    const run = this.writing.catch(() => undefined).then(() => this.db.write());
    this.writing = run;
    return run;
  }

  private find(username: string): StoredUser | undefined {
    return this.db.data.users.find((u) => u.username === username);
  }

  private require(username: string): StoredUser {
    const found = this.find(username);
    if (!found) throw new UserError('not_found', `user "${username.slice(0, 80)}": no such user`);
    return found;
  }

  private keepOneAdmin(user: StoredUser, what: string): void {
    if (!this.db.data.users.some((u) => u !== user && roleAtLeast(u.role, 'admin')))
      throw new UserError('last_admin', `${what} would leave no admin; make another user admin first`);
  }

  private revokeTokensOf(user: StoredUser): void {
    this.db.data.generation += 1;
    user.tokensFrom = this.db.data.generation;
    this.announceRevocation();
  }

  private newUser(username: string, role: Role, cameras: string[] | null, passwordHash: string): StoredUser {
    return {
      username,
      role,
      cameras,
      createdAt: new Date(this.now()).toISOString(),
      passwordChangedAt: null,
      passwordHash,
      tokensFrom: this.db.data.generation,
    };
  }
}

function publicView(u: StoredUser): UserAccount {
  return { username: u.username, role: u.role, cameras: u.cameras, createdAt: u.createdAt, passwordChangedAt: u.passwordChangedAt };
}

// Verifying against a fixed hash for unknown users keeps response time from telling which usernames exist.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
