import path from 'node:path';

/**
 * Where archived frames live on disk:
 *
 *   <dataDir>/archive/<camera>/<YYYY-MM-DD>/<timestampMs>-<sequence>.jpg    the frame
 *   <dataDir>/archive/<camera>/<YYYY-MM-DD>/<timestampMs>-<sequence>.keep   empty marker: retention never deletes it
 *   <dataDir>/archive/<camera>/<YYYY-MM-DD>/.<id>.<random>.tmp              a write in progress (removed on open)
 *
 * The day is the frame's UTC date, so folder names do not depend on the server's zone or jump at DST changes.
 * A marker file rather than a `kept/` folder keeps a frame's path the same whether or not it is kept, so links
 * to it stay valid, and keeping is one small file write rather than a move.
 */
export const ARCHIVE_FOLDER = 'archive';
export const FRAME_ID_PATTERN = /^(\d{1,16})-(\d{1,15})$/;
export const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
export const FRAME_FILE_PATTERN = /^(\d{1,16}-\d{1,15})\.jpg$/;
export const KEEP_FILE_PATTERN = /^(\d{1,16}-\d{1,15})\.keep$/;
export const TEMP_FILE_PATTERN = /^\.\d{1,16}-\d{1,15}\.[0-9a-f]+\.tmp$/;

export function frameId(timestamp: number, sequence: number): string {
  return `${timestamp}-${sequence}`;
}

/** Timestamp and sequence from a frame id, or an error naming the id and the expected form. */
export function parseFrameId(id: unknown): { timestamp: number; sequence: number } {
  const match = typeof id === 'string' ? FRAME_ID_PATTERN.exec(id) : null;
  const timestamp = Number(match?.[1]);
  const sequence = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(timestamp) || !Number.isSafeInteger(sequence)) {
    throw new Error(`frame id ${JSON.stringify(id)} is invalid: expected <timestampMs>-<sequence>, e.g. 1714564800000-42`);
  }
  return { timestamp, sequence };
}

export function dayOf(timestamp: number): string {
  return new Date(timestamp).toISOString().slice(0, 10);
}

/**
 * Joins names under the archive root and refuses any result outside it. Every name is already checked against
 * a pattern, so this is the second lock: a future caller that forgets a check still cannot reach other files.
 */
export function insideArchive(root: string, ...names: string[]): string {
  const resolved = path.resolve(root, ...names);
  const relative = path.relative(root, resolved);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new Error(`archive path ${JSON.stringify(names.join('/'))} resolves outside the archive folder ${root}`);
  }
  return resolved;
}

export interface FramePaths {
  dir: string;
  file: string;
  keep: string;
}

export function framePaths(root: string, camera: string, day: string, id: string): FramePaths {
  return {
    dir: insideArchive(root, camera, day),
    file: insideArchive(root, camera, day, `${id}.jpg`),
    keep: insideArchive(root, camera, day, `${id}.keep`),
  };
}
