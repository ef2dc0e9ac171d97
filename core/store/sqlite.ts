import Database from 'better-sqlite3';

export interface VersionedDbOptions {
  /** What the file is, in errors: "event journal", "alert outbox". */
  what: string;
  /** The schema a new file gets, and its version (kept in `user_version`). */
  schema: string;
  version: number;
  /**
   * How a file of an older version becomes the current one: `migrations[v]` is the SQL that takes version v - 1 to v.
   * Every step from the file's version to `version` runs in one transaction with the new `user_version`.
   */
  migrations?: Readonly<Record<number, string>>;
  /** Sets the connection's pragmas; `created` is true for a new file, before its first table exists. */
  pragmas(db: Database.Database, created: boolean): void;
}

/**
 * Opens (creating when new) a SQLite file of one of Glimpser's stores: refuses a schema newer than this Glimpser
 * understands, sets the store's pragmas, writes the schema into a new file (or migrates an older one) in one
 * transaction, and names the file in any error.
 */
export function openVersionedDb(file: string, options: VersionedDbOptions): Database.Database {
  const db = new Database(file);
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > options.version) throw new Error(`schema version ${version} is newer than this Glimpser understands (${options.version}): upgrade Glimpser`);
    options.pragmas(db, version === 0);
    if (version === 0) {
      db.transaction(() => {
        db.exec(options.schema);
        db.pragma(`user_version = ${options.version}`);
      })();
    } else if (version < options.version) {
      db.transaction(() => {
        for (let step = version + 1; step <= options.version; step++) {
          const sql = options.migrations?.[step];
          if (sql === undefined) throw new Error(`no migration from schema version ${step - 1} to ${step}`);
          db.exec(sql);
        }
        db.pragma(`user_version = ${options.version}`);
      })();
    }
    return db;
  } catch (err) {
    db.close();
    throw new Error(`${options.what} ${file} could not be opened: ${(err as Error).message}`, { cause: err });
  }
}
