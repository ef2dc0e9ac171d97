import Database from 'better-sqlite3';

export interface VersionedDbOptions {
  /** What the file is, in errors: "event journal", "alert outbox". */
  what: string;
  /** The schema a new file gets, and its version (kept in `user_version`). */
  schema: string;
  version: number;
  /** Sets the connection's pragmas; `created` is true for a new file, before its first table exists. */
  pragmas(db: Database.Database, created: boolean): void;
}

/**
 * Opens (creating when new) a SQLite file of one of Glimpser's stores: refuses a schema newer than this Glimpser
 * understands, sets the store's pragmas, writes the schema into a new file in one transaction, and names the file in
 * any error.
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
    }
    return db;
  } catch (err) {
    db.close();
    throw new Error(`${options.what} ${file} could not be opened: ${(err as Error).message}`, { cause: err });
  }
}
