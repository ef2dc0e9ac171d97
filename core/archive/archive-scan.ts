import type { Dirent } from 'node:fs';
import { readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { CAMERA_ID_PATTERN } from '../ids';
import type { Logger } from '../log/logger';
import type { IndexedFrame } from './archive-index';
import { DAY_PATTERN, FRAME_FILE_PATTERN, KEEP_FILE_PATTERN, TEMP_FILE_PATTERN, insideArchive, parseFrameId } from './archive-layout';

/**
 * Rebuilds the index from the archive folder. Only names the layout allows are looked at; anything else (a
 * symbolic link, a folder that is no camera id, a stray file) is logged and left alone, never followed, read or
 * deleted. Leftovers of Glimpser's own interrupted writes are removed: temp files and markers without a frame.
 */
export async function scanArchive(root: string, log: Logger): Promise<IndexedFrame[]> {
  const frames: IndexedFrame[] = [];
  for (const cameraEntry of await entries(root)) {
    if (!cameraEntry.isDirectory() || !CAMERA_ID_PATTERN.test(cameraEntry.name)) {
      log.warn({ name: cameraEntry.name }, 'archive: ignoring an entry that is not a camera folder');
      continue;
    }
    const camera = cameraEntry.name;
    for (const dayEntry of await entries(insideArchive(root, camera))) {
      if (!dayEntry.isDirectory() || !DAY_PATTERN.test(dayEntry.name)) {
        log.warn({ camera, name: dayEntry.name }, 'archive: ignoring an entry that is not a day folder');
        continue;
      }
      frames.push(...(await scanDay(root, camera, dayEntry.name, log)));
    }
  }
  return frames;
}

async function scanDay(root: string, camera: string, day: string, log: Logger): Promise<IndexedFrame[]> {
  const dir = insideArchive(root, camera, day);
  const listing = await entries(dir);
  const files = new Set(listing.filter((entry) => entry.isFile()).map((entry) => entry.name));
  const frames: IndexedFrame[] = [];
  for (const name of files) {
    const frameMatch = FRAME_FILE_PATTERN.exec(name);
    const key = frameMatch ? frameKey(frameMatch[1]) : null;
    if (frameMatch && key) {
      const id = frameMatch[1];
      const { size } = await stat(insideArchive(root, camera, day, name));
      frames.push({ id, camera, ...key, bytes: size, kept: files.has(`${id}.keep`), day });
      continue;
    }
    const keepMatch = KEEP_FILE_PATTERN.exec(name);
    if (keepMatch && files.has(`${keepMatch[1]}.jpg`)) continue;
    if (keepMatch || TEMP_FILE_PATTERN.test(name)) {
      await unlink(insideArchive(root, camera, day, name)).catch(() => undefined);
      continue;
    }
    log.warn({ camera, day, name }, 'archive: ignoring a file that is not an archived frame');
  }
  if (frames.length === 0) await removeIfEmpty(dir);
  return frames;
}

/** Timestamp and sequence, or null for digits past what a number holds exactly (not a name Glimpser writes). */
function frameKey(id: string): { timestamp: number; sequence: number } | null {
  try {
    return parseFrameId(id);
  } catch {
    return null;
  }
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Drops a day folder once its last frame is gone; a folder something else still uses stays. */
export async function removeIfEmpty(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch {
    // Not empty (a frame arrived meanwhile, or an unknown file is there) or already gone: both are fine.
  }
}
