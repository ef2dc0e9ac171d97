import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { archiveMetrics } from '../../core/archive/archive-metrics';
import { FrameArchive, type FrameArchiveOptions } from '../../core/archive/frame-archive';
import type { Frame } from '../../core/frames/frame';
import { eventually } from '../support/tools';

const HOUR = 3600 * 1000;
const T0 = Date.UTC(2024, 4, 1, 23, 0, 0);

let dataDir: string;
const open: FrameArchive[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-archive-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((archive) => archive.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function openArchive(options: Partial<FrameArchiveOptions> = {}): Promise<FrameArchive> {
  // The frames are from 2024: a clock near them keeps the default age limit out of tests about other rules.
  const archive = new FrameArchive({ dataDir, now: () => T0 + HOUR, ...options });
  open.push(archive);
  await archive.open();
  return archive;
}

/** The archive stores bytes as given, so distinct fill bytes and sizes make every frame recognisable. */
function frame(camera: string, timestamp: number, sequence: number, bytes = 1000): Frame {
  const jpeg = Buffer.alloc(bytes, sequence % 256);
  return { jpeg, meta: { camera, timestamp, sequence, width: 1, height: 1, bytes } };
}

function ids(archive: FrameArchive, camera: string): string[] {
  return archive
    .list(camera, { limit: 1000 })
    .frames.map((f) => f.id)
    .reverse();
}

/** Every file under the archive, without following links (Node 22's recursive readdir descends into them). */
function filesOnDisk(): string[] {
  const root = path.join(dataDir, 'archive');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return walk(full);
      return entry.isFile() ? [path.relative(root, full)] : [];
    });
  return existsSync(root) ? walk(root).sort() : [];
}

async function deletions(camera: string, reason: string): Promise<number> {
  const { values } = await archiveMetrics.deletionsTotal.get();
  return values.find((v) => v.labels.camera === camera && v.labels.reason === reason)?.value ?? 0;
}

describe('FrameArchive storage', () => {
  it('writes each frame under <camera>/<UTC day>/<timestamp>-<sequence>.jpg and reads it back', async () => {
    const archive = await openArchive();
    const added = await archive.add(frame('porch', T0 + 2 * HOUR, 5, 1234));
    expect(added).toEqual({ id: `${T0 + 2 * HOUR}-5`, camera: 'porch', timestamp: T0 + 2 * HOUR, sequence: 5, bytes: 1234, kept: false });
    // 23:00 + 2 h crosses midnight UTC.
    expect(filesOnDisk()).toEqual([`porch/2024-05-02/${added.id}.jpg`]);
    const got = await archive.get('porch', added.id);
    expect(got?.jpeg.equals(frame('porch', 0, 5, 1234).jpeg)).toBe(true);
    expect(got?.path).toBe(path.join(dataDir, 'archive', 'porch', '2024-05-02', `${added.id}.jpg`));
    expect(await archive.get('porch', '1-1')).toBeNull();
    expect(await archive.get('garage', added.id)).toBeNull();
  });

  it('lists newest first with a cursor for older pages', async () => {
    const archive = await openArchive();
    for (let i = 1; i <= 5; i++) await archive.add(frame('porch', T0 + i, i));
    const first = archive.list('porch', { limit: 2 });
    expect(first.frames.map((f) => f.sequence)).toEqual([5, 4]);
    const second = archive.list('porch', { limit: 2, before: first.next! });
    expect(second.frames.map((f) => f.sequence)).toEqual([3, 2]);
    const last = archive.list('porch', { limit: 2, before: second.next! });
    expect(last).toEqual({ frames: [expect.objectContaining({ sequence: 1 })], next: null });
    expect(archive.list('garage', { limit: 2 })).toEqual({ frames: [], next: null });
    expect(() => archive.list('porch', { limit: 0 })).toThrow(/limit 0 is invalid/);
    expect(() => archive.list('porch', { limit: 2, before: 'yesterday' })).toThrow(/frame id "yesterday" is invalid/);
  });

  it('reports bytes and frames per camera in stats and in the gauges', async () => {
    const archive = await openArchive();
    await archive.add(frame('stats-a', T0, 1, 100));
    await archive.add(frame('stats-a', T0 + 1, 2, 200));
    await archive.add(frame('stats-b', T0 + 2, 1, 50));
    await archive.keep('stats-a', `${T0}-1`, true);
    expect(archive.stats()).toEqual({
      frames: 3,
      bytes: 350,
      cameras: {
        'stats-a': { frames: 2, bytes: 300, keptFrames: 1, keptBytes: 100, oldest: T0, newest: T0 + 1 },
        'stats-b': { frames: 1, bytes: 50, keptFrames: 0, keptBytes: 0, oldest: T0 + 2, newest: T0 + 2 },
      },
    });
    const { values } = await archiveMetrics.bytes.get();
    expect(values.find((v) => v.labels.camera === 'stats-a')?.value).toBe(300);
  });

  it.each(['../x', '..', 'A', '', 'a/b'])('refuses the camera id %j everywhere', async (camera) => {
    const archive = await openArchive();
    expect(() => archive.add(frame(camera, T0, 1))).toThrow(/camera id .* is invalid/);
    expect(() => archive.list(camera, { limit: 1 })).toThrow(/camera id .* is invalid/);
    await expect(archive.get(camera, `${T0}-1`)).rejects.toThrow(/camera id .* is invalid/);
    expect(() => archive.keep(camera, `${T0}-1`, true)).toThrow(/camera id .* is invalid/);
    expect(filesOnDisk()).toEqual([]);
  });

  it('refuses frame ids that are not <timestamp>-<sequence>', async () => {
    const archive = await openArchive();
    await expect(archive.get('porch', '../../secrets')).rejects.toThrow(/frame id "..\/..\/secrets" is invalid/);
    expect(() => archive.keep('porch', '1-1.jpg', true)).toThrow(/frame id "1-1.jpg" is invalid/);
  });
});

describe('FrameArchive retention', () => {
  it('keeps at most maxFramesPerCamera frames per camera, deleting the oldest, never a kept one', async () => {
    const archive = await openArchive({ maxFramesPerCamera: 3 });
    const before = await deletions('count-cam', 'count');
    const first = await archive.add(frame('count-cam', T0 + 1, 1));
    await archive.keep('count-cam', first.id, true);
    for (let i = 2; i <= 7; i++) await archive.add(frame('count-cam', T0 + i, i));
    await archive.add(frame('count-other', T0, 1));
    expect(ids(archive, 'count-cam')).toEqual([`${T0 + 1}-1`, `${T0 + 5}-5`, `${T0 + 6}-6`, `${T0 + 7}-7`]);
    expect(ids(archive, 'count-other')).toEqual([`${T0}-1`]);
    expect(filesOnDisk().filter((file) => file.startsWith('count-cam/'))).toEqual([
      `count-cam/2024-05-01/${T0 + 1}-1.jpg`,
      `count-cam/2024-05-01/${T0 + 1}-1.keep`,
      `count-cam/2024-05-01/${T0 + 5}-5.jpg`,
      `count-cam/2024-05-01/${T0 + 6}-6.jpg`,
      `count-cam/2024-05-01/${T0 + 7}-7.jpg`,
    ]);
    expect(await deletions('count-cam', 'count')).toBe(before + 3);
  });

  it('deletes frames older than maxAgeMs after an add and on enforce(), but not kept ones', async () => {
    let now = T0;
    const archive = await openArchive({ maxAgeMs: 2 * HOUR, now: () => now });
    const old = await archive.add(frame('age-cam', T0 - 30 * HOUR, 1));
    await archive.keep('age-cam', old.id, true);
    await archive.add(frame('age-cam', T0 - 5 * HOUR, 2));
    await archive.add(frame('age-cam', T0 - 1 * HOUR, 3));
    expect(ids(archive, 'age-cam')).toEqual([old.id, `${T0 - HOUR}-3`]);
    expect(filesOnDisk()).toEqual([`age-cam/2024-04-30/${old.id}.jpg`, `age-cam/2024-04-30/${old.id}.keep`, `age-cam/2024-05-01/${T0 - HOUR}-3.jpg`]);

    now = T0 + 2 * HOUR;
    expect(await archive.enforce()).toBe(1);
    expect(ids(archive, 'age-cam')).toEqual([old.id]);
    expect(await archive.keep('age-cam', old.id, false)).toMatchObject({ kept: false });
    expect(await archive.enforce()).toBe(1);
    expect(ids(archive, 'age-cam')).toEqual([]);
    // Empty day folders go with their last frame.
    expect(readdirSync(path.join(dataDir, 'archive', 'age-cam'))).toEqual([]);
  });

  it('applies the age limit on its timer as well', async () => {
    let now = T0;
    const archive = await openArchive({ maxAgeMs: HOUR, now: () => now, enforceEveryMs: 20 });
    await archive.add(frame('timer-cam', T0, 1));
    now = T0 + 2 * HOUR;
    await eventually(async () => (archive.stats().frames === 0 ? true : undefined), 5000, 'timer retention');
    expect(filesOnDisk()).toEqual([]);
  });

  it('keeps the total bytes of all cameras under maxTotalBytes, oldest first across cameras', async () => {
    const archive = await openArchive({ maxTotalBytes: 3500 });
    const kept = await archive.add(frame('size-a', T0, 1, 1000));
    await archive.keep('size-a', kept.id, true);
    await archive.add(frame('size-b', T0 + 1, 1, 1000));
    await archive.add(frame('size-a', T0 + 2, 2, 1000));
    await archive.add(frame('size-b', T0 + 3, 2, 1000));
    await archive.add(frame('size-a', T0 + 4, 3, 1000));
    // Kept bytes do not count: 3 deletable frames of 1000 fit, so the oldest deletable (size-b #1) went.
    expect(ids(archive, 'size-a')).toEqual([kept.id, `${T0 + 2}-2`, `${T0 + 4}-3`]);
    expect(ids(archive, 'size-b')).toEqual([`${T0 + 3}-2`]);
    await archive.add(frame('size-b', T0 + 5, 3, 2000));
    expect(ids(archive, 'size-a')).toEqual([kept.id, `${T0 + 4}-3`]);
    expect(ids(archive, 'size-b')).toEqual([`${T0 + 5}-3`]);
    expect(archive.stats().bytes).toBe(4000);
  });

  it('never deletes the frame it was just asked to add', async () => {
    const archive = await openArchive({ maxTotalBytes: 100 });
    const big = await archive.add(frame('spare-cam', T0, 1, 1000));
    expect((await archive.get('spare-cam', big.id))?.frame.bytes).toBe(1000);
  });

  it('refuses limits that make no sense', () => {
    expect(() => new FrameArchive({ dataDir, maxFramesPerCamera: 0 })).toThrow(/maxFramesPerCamera 0 is invalid/);
    expect(() => new FrameArchive({ dataDir, maxAgeMs: -1 })).toThrow(/maxAgeMs -1 is invalid/);
    expect(() => new FrameArchive({ dataDir, maxTotalBytes: Number.POSITIVE_INFINITY })).not.toThrow();
  });
});

describe('FrameArchive restart', () => {
  it('rebuilds the index, kept flags included, from disk in a new instance', async () => {
    const first = await openArchive();
    for (let i = 1; i <= 4; i++) await first.add(frame('restart-a', T0 + i * HOUR, i, 100 * i));
    await first.add(frame('restart-b', T0, 9, 10));
    await first.keep('restart-a', `${T0 + 2 * HOUR}-2`, true);
    const listing = first.list('restart-a', { limit: 10 });
    const stats = first.stats();
    await first.close();
    expect(() => first.add(frame('restart-a', T0, 1))).toThrow(/closed/);

    const second = await openArchive();
    expect(second.list('restart-a', { limit: 10 })).toEqual(listing);
    expect(second.stats()).toEqual(stats);
    expect((await second.get('restart-a', `${T0 + 3 * HOUR}-3`))?.jpeg.length).toBe(300);
  });

  it('removes its own leftovers, leaves unknown files alone and never follows links out of the archive', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'glimpser-outside-'));
    const outsideFrame = path.join(outside, '2024-05-01', `${T0}-1.jpg`);
    mkdirSync(path.dirname(outsideFrame));
    writeFileSync(outsideFrame, 'not yours');
    const day = path.join(dataDir, 'archive', 'cam', '2024-05-01');
    mkdirSync(day, { recursive: true });
    writeFileSync(path.join(day, `${T0}-1.jpg`), Buffer.alloc(10));
    writeFileSync(path.join(day, `.${T0}-2.0a1b.tmp`), 'half a frame');
    writeFileSync(path.join(day, `${T0}-3.keep`), '');
    writeFileSync(path.join(day, 'notes.txt'), 'mine');
    // Frame-shaped, but with a timestamp past what a number holds exactly: not a name Glimpser writes.
    writeFileSync(path.join(day, '9999999999999999-1.jpg'), 'odd');
    symlinkSync(outside, path.join(dataDir, 'archive', 'linked'));
    mkdirSync(path.join(dataDir, 'archive', 'Not_A_Camera'));
    try {
      const archive = await openArchive({ maxFramesPerCamera: 1, maxAgeMs: 1 });
      expect(archive.list('linked', { limit: 10 }).frames).toEqual([]);
      expect(await archive.enforce()).toBe(0);
      expect(filesOnDisk()).toEqual(['cam/2024-05-01/9999999999999999-1.jpg', 'cam/2024-05-01/notes.txt']);
      expect(readFileSync(outsideFrame, 'utf8')).toBe('not yours');
      expect(existsSync(path.join(dataDir, 'archive', 'Not_A_Camera'))).toBe(true);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
