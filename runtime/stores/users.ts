import path from 'node:path';
import { Low } from 'lowdb';
import { generatePassword, hashPassword, verifyPassword } from '../auth/passwords';
import { PrivateJsonFile } from './private-json-file';

export type Role = 'admin' | 'viewer';

export interface User {
  username: string;
  role: Role;
}

interface StoredUser extends User {
  passwordHash: string;
  createdAt: string;
}

interface UsersDocument {
  version: 1;
  users: StoredUser[];
  settings: Record<string, unknown>;
}

export interface AdminSeed {
  created: boolean;
  /** Set only when the password was generated on this start: the caller shows it once and stores it 0600. */
  generatedPassword?: string;
}

/** Users and small settings, a lowdb document in `<dataDir>/glimpser.json` written atomically with mode 0600. */
export class UserStore {
  private readonly db: Low<UsersDocument>;

  constructor(dataDir: string) {
    this.db = new Low<UsersDocument>(new PrivateJsonFile<UsersDocument>(path.join(dataDir, 'glimpser.json')), { version: 1, users: [], settings: {} });
  }

  async open(): Promise<void> {
    await this.db.read();
  }

  /** Creates `admin` on the first start only; a later change of GLIMPSER_ADMIN_PASSWORD does not reset it. */
  async ensureAdmin(password: string | undefined): Promise<AdminSeed> {
    if (this.db.data.users.some((u) => u.role === 'admin')) return { created: false };
    const chosen = password ?? generatePassword();
    this.db.data.users.push({ username: 'admin', role: 'admin', passwordHash: await hashPassword(chosen), createdAt: new Date().toISOString() });
    await this.db.write();
    return { created: true, generatedPassword: password ? undefined : chosen };
  }

  get(username: string): User | null {
    const found = this.db.data.users.find((u) => u.username === username);
    return found ? { username: found.username, role: found.role } : null;
  }

  /** Returns the user when the password matches, otherwise null (also for unknown users, after the same work). */
  async verify(username: string, password: string): Promise<User | null> {
    const found = this.db.data.users.find((u) => u.username === username);
    const ok = await verifyPassword(password, found?.passwordHash ?? DUMMY_HASH);
    return found && ok ? { username: found.username, role: found.role } : null;
  }

  async flush(): Promise<void> {
    await this.db.write();
  }
}

// Verifying against a fixed hash for unknown users keeps response time from telling which usernames exist.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
