import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Frame } from '../frames/frame';
import { assertCameraId } from '../ids';
import { silentLogger, type Logger } from '../log/logger';
import { CameraFrames, publicFrame, type ArchivedFrame, type IndexedFrame } from './archive-index';
import { ARCHIVE_FOLDER, dayOf, frameId, framePaths, insideArchive, parseFrameId, type FramePaths } from './archive-layout';
import { archiveMetrics } from './archive-metrics';
import { removeIfEmpty, scanArchive } from './archive-scan';
import { chooseVictims, retentionLimits, type RetentionLimits, type Victim } from './retention';

export type { ArchivedFrame } from './archive-index';
export { DEFAULT_RETENTION, type RetentionLimits, type RetentionRule } from './retention';

export interface FrameArchiveOptions extends Partial<RetentionLimits> {
  dataDir: string;
  /** How often every camera is checked against the limits, besides the check after each add. */
  /** null: no timer of its own; the runtime's retention job (core/jobs) runs the timed pass instead. */
  enforceEveryMs?: number | null;
  logger?: Logger;
  /** Clock for the age limit. */
  now?: () => number;
}

export interface CameraArchiveStats {
  frames: number;
  bytes: number;
  keptFrames: number;
  keptBytes: number;
  oldest: number | null;
  newest: number | null;
}

export interface ArchiveStats {
  frames: number;
  bytes: number;
  cameras: Record<string, CameraArchiveStats>;
}

export interface ArchivePage {
  /** Newest first. */
  frames: ArchivedFrame[];
  /** Pass as `before` for the next, older page; null on the last page. */
  next: string | null;
}

export const MAX_PAGE = 1000;

/**
 * Frames saved per camera and day (layout in ./archive-layout.ts), with an in-memory index rebuilt from disk on
 * open. Retention deletes the oldest frames first, never a kept one; limits count only frames it may delete,
 * so keeping many frames cannot make every new frame vanish as soon as it is written.
 */
export class FrameArchive {
  private readonly limits: RetentionLimits;
  private readonly enforceEveryMs: number | null;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly cameras = new Map<string, CameraFrames>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private root: string;
  private state: 'new' | 'open' | 'closed' = 'new';
  private timer?: NodeJS.Timeout;

  constructor(options: FrameArchiveOptions) {
    this.limits = retentionLimits(options);
    this.enforceEveryMs = options.enforceEveryMs === undefined ? 60000 : options.enforceEveryMs;
    if (this.enforceEveryMs !== null && (!Number.isInteger(this.enforceEveryMs) || this.enforceEveryMs < 10)) {
      throw new Error(`enforceEveryMs ${JSON.stringify(options.enforceEveryMs)} is invalid: expected a whole number of milliseconds, at least 10`);
    }
    this.root = path.resolve(options.dataDir, ARCHIVE_FOLDER);
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error(`frame archive at ${this.root} is ${this.state === 'open' ? 'already open' : 'closed'}`);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    // Resolved once, so the containment checks compare real paths even when the data folder is a link.
    this.root = await realpath(this.root);
    for (const frame of await scanArchive(this.root, this.log)) this.framesOf(frame.camera).upsert(frame);
    for (const camera of this.cameras.keys()) this.updateGauges(camera);
    this.state = 'open';
    if (this.enforceEveryMs !== null) {
      this.timer = setInterval(() => {
        this.enforce().catch((err: Error) => this.log.warn({ err: err.message }, 'archive retention failed'));
      }, this.enforceEveryMs);
      this.timer.unref();
    }
    const stats = this.stats();
    this.log.info({ root: this.root, frames: stats.frames, bytes: stats.bytes }, 'frame archive open');
    await this.enforce();
  }

  /** Writes the frame (temp file, then rename, so no reader sees half a JPEG) and applies retention to its camera. */
  add(frame: Frame): Promise<ArchivedFrame> {
    this.assertOpen();
    const camera = assertCameraId(frame.meta.camera);
    const { timestamp, sequence } = frame.meta;
    if (!Number.isSafeInteger(timestamp) || timestamp < 0)
      throw new Error(`frame timestamp ${JSON.stringify(timestamp)} is invalid: expected milliseconds since the epoch`);
    if (!Number.isSafeInteger(sequence) || sequence < 0) throw new Error(`frame sequence ${JSON.stringify(sequence)} is invalid: expected a whole number`);
    return this.track(async () => {
      const id = frameId(timestamp, sequence);
      const day = dayOf(timestamp);
      await this.writeAtomically(framePaths(this.root, camera, day, id), frame.jpeg);
      const frames = this.framesOf(camera);
      const entry: IndexedFrame = { id, camera, timestamp, sequence, bytes: frame.jpeg.length, kept: frames.find(frame.meta)?.kept ?? false, day };
      frames.upsert(entry);
      this.updateGauges(camera);
      // The frame just written is spared, so add() never hands back a frame that is already gone.
      await this.deleteFrames(chooseVictims(this.cameras, [camera], this.limits, this.now(), entry));
      return publicFrame(entry);
    });
  }

  /** A camera's frames, newest first, older than the `before` cursor when given. */
  list(camera: string, options: { before?: string; limit: number }): ArchivePage {
    this.assertOpen();
    const { limit } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
      throw new Error(`limit ${JSON.stringify(limit)} is invalid: expected a whole number from 1 to ${MAX_PAGE}`);
    const before = options.before === undefined ? undefined : parseFrameId(options.before);
    const frames = this.cameras.get(assertCameraId(camera));
    if (!frames) return { frames: [], next: null };
    const page = frames.page(before, limit);
    return { frames: page.frames.map(publicFrame), next: page.more ? page.frames[page.frames.length - 1].id : null };
  }

  /** Whether the archive holds any frame of the camera, for telling "no frames" from "no such camera". */
  has(camera: string): boolean {
    return (this.cameras.get(camera)?.size ?? 0) > 0;
  }

  async get(camera: string, id: string): Promise<{ frame: ArchivedFrame; path: string; jpeg: Buffer } | null> {
    const frame = this.lookup(camera, id);
    if (!frame) return null;
    const { file } = this.pathsOf(frame);
    try {
      return { frame: publicFrame(frame), path: file, jpeg: await readFile(file) };
    } catch (err) {
      // Deleted by retention between the look-up and the read.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Marks a frame kept (retention never deletes it) or releases it; null when there is no such frame. */
  keep(camera: string, id: string, keep: boolean): Promise<ArchivedFrame | null> {
    const frame = this.lookup(camera, id);
    if (!frame) return Promise.resolve(null);
    const frames = this.framesOf(frame.camera);
    const paths = this.pathsOf(frame);
    return this.track(async () => {
      if (keep) {
        // Flagged before the marker is written, so a retention pass running meanwhile already passes it over.
        frames.setKept(frame, true);
        try {
          await writeFile(paths.keep, '');
        } catch (err) {
          frames.setKept(frame, false);
          throw err;
        }
      } else {
        await unlink(paths.keep).catch(ignoreMissing);
        frames.setKept(frame, false);
      }
      return publicFrame(frame);
    });
  }

  /** Applies every limit to every camera; resolves with how many frames were deleted. */
  enforce(): Promise<number> {
    this.assertOpen();
    return this.track(async () => {
      const victims = chooseVictims(this.cameras, this.cameras.keys(), this.limits, this.now());
      await this.deleteFrames(victims);
      return victims.length;
    });
  }

  stats(): ArchiveStats {
    const stats: ArchiveStats = { frames: 0, bytes: 0, cameras: {} };
    for (const [camera, frames] of this.cameras) {
      if (frames.size === 0) continue;
      stats.frames += frames.size;
      stats.bytes += frames.bytes;
      stats.cameras[camera] = {
        frames: frames.size,
        bytes: frames.bytes,
        keptFrames: frames.size - frames.deletableCount,
        keptBytes: frames.bytes - frames.deletableBytes,
        oldest: frames.oldest()?.timestamp ?? null,
        newest: frames.newest()?.timestamp ?? null,
      };
    }
    return stats;
  }

  /** Stops the retention timer and waits for writes and deletions under way. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private async deleteFrames(victims: Victim[]): Promise<void> {
    if (victims.length === 0) return;
    const dirs = new Set<string>();
    const cameras = new Set<string>();
    for (const { frame, reason } of victims) {
      const paths = this.pathsOf(frame);
      try {
        await unlink(paths.file);
      } catch (err) {
        // Left on disk, it is indexed again on the next open and deleted then.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          this.log.warn({ camera: frame.camera, frame: frame.id, err: (err as Error).message }, 'archive: could not delete a frame');
      }
      archiveMetrics.deletionsTotal.inc({ camera: frame.camera, reason });
      dirs.add(paths.dir);
      cameras.add(frame.camera);
    }
    for (const dir of dirs) await removeIfEmpty(dir);
    for (const camera of cameras) this.updateGauges(camera);
    this.log.debug({ deleted: victims.length }, 'archive retention deleted frames');
  }

  private async writeAtomically(paths: FramePaths, jpeg: Buffer): Promise<void> {
    const temp = insideArchive(paths.dir, `.${path.basename(paths.file, '.jpg')}.${randomBytes(6).toString('hex')}.tmp`);
    // No fsync: a power cut may lose the last frames, which an archive of many frames a minute can afford, and
    // syncing every frame would wear out the SD cards small installations run on. The rename alone guarantees
    // that a reader sees either no file or the whole frame.
    for (let attempt = 1; ; attempt++) {
      await mkdir(paths.dir, { recursive: true, mode: 0o700 });
      try {
        await writeFile(temp, jpeg, { flag: 'wx' });
        break;
      } catch (err) {
        // Retention removed the day folder after its last frame between the mkdir and the write.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 2) throw err;
      }
    }
    try {
      await rename(temp, paths.file);
    } catch (err) {
      await unlink(temp).catch(ignoreMissing);
      throw err;
    }
  }

  private lookup(camera: string, id: string): IndexedFrame | undefined {
    this.assertOpen();
    const key = parseFrameId(id);
    return this.cameras.get(assertCameraId(camera))?.find(key);
  }

  private framesOf(camera: string): CameraFrames {
    let frames = this.cameras.get(camera);
    if (!frames) {
      frames = new CameraFrames();
      this.cameras.set(camera, frames);
    }
    return frames;
  }

  private pathsOf(frame: IndexedFrame): FramePaths {
    return framePaths(this.root, frame.camera, frame.day, frame.id);
  }

  private updateGauges(camera: string): void {
    const frames = this.cameras.get(camera);
    archiveMetrics.bytes.set({ camera }, frames?.bytes ?? 0);
    archiveMetrics.frames.set({ camera }, frames?.size ?? 0);
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    const promise = work();
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new Error(`frame archive at ${this.root} is ${this.state === 'new' ? 'not open yet: call open() first' : 'closed'}`);
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
