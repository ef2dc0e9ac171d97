import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ID_CHARS } from '../ids';

/**
 * Event snapshots on disk:
 *
 *   <dataDir>/events/snapshots/<camera>/<YYYY-MM-DD>/<event id>.jpg   the snapshot (day = UTC day of the start)
 *   <dataDir>/events/snapshots/.tmp/<event id>.<random>               a write in progress, renamed into place
 *
 * Writes in progress share one folder (camera ids cannot start with a dot), so the sweep on open after a crash
 * reads one folder instead of walking every camera and day.
 *
 * The journal stores the path relative to the snapshots folder, and every path is resolved and checked to stay
 * inside it before use, so a damaged or hand-edited row cannot make the journal read or delete other files.
 */
export const SNAPSHOT_NAME_PATTERN = new RegExp(`^${ID_CHARS}/\\d{4}-\\d{2}-\\d{2}/[0-9A-HJKMNP-TV-Z]{26}\\.jpg$`);
export const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;
const TEMP_FOLDER = '.tmp';

export function snapshotName(camera: string, startTime: number, id: string): string {
  return `${camera}/${new Date(startTime).toISOString().slice(0, 10)}/${id}.jpg`;
}

export class SnapshotFiles {
  private readonly temp: string;

  constructor(readonly root: string) {
    this.temp = path.join(root, TEMP_FOLDER);
  }

  /** The absolute path of a stored snapshot name; throws if the name is malformed or leaves the folder. */
  pathOf(name: string): string {
    if (!SNAPSHOT_NAME_PATTERN.test(name)) throw new Error(`snapshot name ${JSON.stringify(name)} is invalid: expected <camera>/<YYYY-MM-DD>/<event id>.jpg`);
    const resolved = path.resolve(this.root, name);
    const relative = path.relative(this.root, resolved);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative))
      throw new Error(`snapshot ${JSON.stringify(name)} resolves outside the snapshots folder ${this.root}`);
    return resolved;
  }

  /**
   * Writes via a temp file and a rename, so a reader never sees half a JPEG. With `durable` the bytes and the
   * rename are fsynced (the journal's synchronous=FULL), otherwise a process crash still cannot lose them: they
   * are in the kernel's page cache once write() returns.
   */
  async write(name: string, jpeg: Buffer, durable: boolean): Promise<void> {
    const file = this.pathOf(name);
    const dir = path.dirname(file);
    const temp = path.join(this.temp, `${path.basename(file, '.jpg')}.${randomBytes(6).toString('hex')}`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(jpeg);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      for (let attempt = 1; ; attempt++) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        try {
          await rename(temp, file);
          break;
        } catch (err) {
          // Retention removed the day folder after its last snapshot between the mkdir and the rename.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 2) throw err;
        }
      }
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    if (durable) await syncDir(dir);
  }

  /** Removes a snapshot and its day folder once empty; a missing file is not an error. */
  remove(name: string): void {
    const file = this.pathOf(name);
    rmSync(file, { force: true });
    try {
      rmdirSync(path.dirname(file));
    } catch {
      // Not empty (the usual case), or already gone.
    }
  }

  /** Creates the folders and deletes writes that a crash left unfinished. */
  prepare(): void {
    mkdirSync(this.temp, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.temp)) rmSync(path.join(this.temp, name), { force: true, recursive: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
