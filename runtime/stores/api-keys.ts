import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { Low } from 'lowdb';
import { isRole, roleAtLeast, type Principal, type Role } from '../auth/roles';
import { PrivateJsonFile } from './private-json-file';
import { UserError } from './users';

/** An API key as listed: everything but the secret and its hash. */
export interface ApiKey {
  /** Also the lookup prefix inside the key: `glk_<id>_<secret>`. */
  id: string;
  name: string;
  role: Role;
  cameras: string[] | null;
  /** The user who created it; the key never grants more than that user has now. */
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

interface StoredKey extends ApiKey {
  /** SHA-256 of the whole key, hex. The secret carries 256 random bits, so a fast hash is enough (no guessing to slow). */
  hash: string;
}

interface KeysDocument {
  version: 1;
  keys: StoredKey[];
}

/** What the store needs to know about the creator: their current role and cameras, or null once they are gone. */
export type CreatorLookup = (username: string) => { role: Role; cameras: readonly string[] | null } | null;

export interface ApiKeyStoreOptions {
  creators: CreatorLookup;
  now?: () => number;
  /** lastUsedAt is kept in memory and written at most this often, not once per request. */
  lastUsedWriteMs?: number;
}

const KEY = /^glk_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;
const NAME = /^[\p{L}\p{N} ._@()/:-]{1,64}$/u;

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** API keys in `<dataDir>/api-keys.json` (0600): created (the secret shown once), listed, verified, revoked. */
export class ApiKeyStore {
  private readonly db: Low<KeysDocument>;
  private readonly creators: CreatorLookup;
  private readonly now: () => number;
  private readonly lastUsedWriteMs: number;
  private writing: Promise<void> = Promise.resolve();
  private lastUsedTimer: NodeJS.Timeout | null = null;
  private lastUsedPending = false;
  private readonly revocationListeners = new Set<(id: string) => void>();

  constructor(dataDir: string, options: ApiKeyStoreOptions) {
    this.db = new Low<KeysDocument>(new PrivateJsonFile<KeysDocument>(path.join(dataDir, 'api-keys.json')), { version: 1, keys: [] });
    this.creators = options.creators;
    this.now = options.now ?? Date.now;
    this.lastUsedWriteMs = options.lastUsedWriteMs ?? 60_000;
  }

  async open(): Promise<void> {
    await this.db.read();
    if (this.db.data.version !== 1) throw new Error(`api-keys.json: version ${String(this.db.data.version)} is newer than this Glimpser understands (1)`);
  }

  /** Creates a key for `creator`; the returned `secret` is the only time the key is ever shown. */
  async create(
    creator: Pick<Principal, 'username' | 'role' | 'cameras'>,
    input: { name: string; role: Role; cameras?: readonly string[] | null; expiresAt?: string | null },
  ): Promise<{ key: ApiKey; secret: string }> {
    if (!NAME.test(input.name)) throw new UserError('invalid', `name: expected 1 to 64 letters, digits, spaces or ._@()/:- characters`);
    if (!isRole(input.role)) throw new UserError('invalid', `role: expected viewer, operator or admin, got "${String(input.role)}"`);
    if (!roleAtLeast(creator.role, input.role))
      throw new UserError('invalid', `role: a key cannot have more than its creator's role (${creator.role}), asked for ${input.role}`);
    const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : null;
    if (expiresAt !== null && (Number.isNaN(expiresAt) || expiresAt <= this.now()))
      throw new UserError('invalid', `expiresAt: expected a date-time in the future, got "${input.expiresAt}"`);
    const cameras = narrowCameras(creator.cameras, input.cameras ?? null);
    const id = randomBytes(8).toString('hex').slice(0, 10);
    const secret = `glk_${id}_${randomBytes(32).toString('base64url')}`;
    const stored: StoredKey = {
      id,
      name: input.name,
      role: input.role,
      cameras,
      createdBy: creator.username,
      createdAt: new Date(this.now()).toISOString(),
      expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      lastUsedAt: null,
      hash: sha256(secret),
    };
    this.db.data.keys.push(stored);
    await this.save();
    return { key: publicView(stored), secret };
  }

  list(): ApiKey[] {
    return this.db.data.keys.map(publicView);
  }

  get(id: string): ApiKey | null {
    const found = this.db.data.keys.find((k) => k.id === id);
    return found ? publicView(found) : null;
  }

  /** Deletes the key; false when there was none with this id. */
  async revoke(id: string): Promise<boolean> {
    const before = this.db.data.keys.length;
    this.db.data.keys = this.db.data.keys.filter((k) => k.id !== id);
    if (this.db.data.keys.length === before) return false;
    for (const listener of this.revocationListeners) listener(id);
    await this.save();
    return true;
  }

  /** Calls `listener` with a key's id once it is revoked (long-lived connections signed in with it close). */
  onRevoked(listener: (id: string) => void): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }

  /** Whether this string looks like an API key at all (so the Authenticator need not try it as a token). */
  static looksLikeKey(value: string): boolean {
    return value.startsWith('glk_');
  }

  /**
   * The principal a key grants, or null when it is unknown, revoked, expired, or its creator is gone. The role and
   * cameras are the key's, never more than its creator has now. Records the use (written later, see lastUsedWriteMs).
   */
  verify(secret: string): Principal | null {
    const match = KEY.exec(secret);
    if (!match) return null;
    const found = this.db.data.keys.find((k) => k.id === match[1]);
    const expected = Buffer.from(found?.hash ?? sha256('no such key'), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(sha256(secret), 'hex')) || !found) return null;
    const now = this.now();
    if (found.expiresAt !== null && Date.parse(found.expiresAt) <= now) return null;
    const creator = this.creators(found.createdBy);
    if (!creator) return null;
    found.lastUsedAt = new Date(now).toISOString();
    this.lastUsedPending = true;
    this.scheduleLastUsedWrite();
    const role = roleAtLeast(creator.role, found.role) ? found.role : creator.role;
    return { username: found.createdBy, role, cameras: narrowCameras(creator.cameras, found.cameras), via: 'key', keyId: found.id };
  }

  /** Writes pending lastUsedAt times now (on stop); nothing when none are pending. */
  async flush(): Promise<void> {
    if (this.lastUsedTimer) clearTimeout(this.lastUsedTimer);
    this.lastUsedTimer = null;
    if (this.lastUsedPending) await this.save();
  }

  private scheduleLastUsedWrite(): void {
    if (this.lastUsedTimer) return;
    this.lastUsedTimer = setTimeout(() => {
      this.lastUsedTimer = null;
      this.save().catch(() => undefined);
    }, this.lastUsedWriteMs);
    this.lastUsedTimer.unref();
  }

  private save(): Promise<void> {
    this.lastUsedPending = false;
    const run = this.writing.catch(() => undefined).then(() => this.db.write());
    this.writing = run;
    return run;
  }
}

/** A key's camera list within its creator's: null (all) under a creator limited to some means the creator's list. */
function narrowCameras(creator: readonly string[] | null, wanted: readonly string[] | null): string[] | null {
  if (creator === null) return wanted === null ? null : [...new Set(wanted)];
  if (wanted === null) return [...creator];
  return [...new Set(wanted)].filter((c) => creator.includes(c));
}

function publicView(k: StoredKey): ApiKey {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    cameras: k.cameras,
    createdBy: k.createdBy,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    lastUsedAt: k.lastUsedAt,
  };
}
