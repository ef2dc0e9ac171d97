import { chmod, mkdir, stat } from 'node:fs/promises';
import type { Logger } from '../../core/log/logger';

/**
 * Makes the data folder Glimpser's alone (0700). New files are 0600 already (the CLI's umask), but a data folder from
 * an older Glimpser holds files that were created 0644 (journal.db, Node-RED's sessions, snapshots): closing the
 * folder closes all of them at once, without walking thousands of pictures on every start.
 */
export async function secureDataDir(dir: string, log: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { mode } = await stat(dir);
  if ((mode & 0o077) === 0) return;
  await chmod(dir, 0o700);
  log.warn({ dataDir: dir, was: (mode & 0o777).toString(8) }, 'data folder was readable by other users; now 0700');
}
