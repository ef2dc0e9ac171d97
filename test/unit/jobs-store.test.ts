import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JobValidationError, type JobDefinition } from '../../core/jobs/index';
import { parseSchedule } from '../../core/jobs/schedule';
import { JobStore, MAX_OUTPUT_BYTES } from '../../core/jobs/store';

const T0 = Date.UTC(2026, 4, 4);
const DAY = 24 * 3600_000;
const capture: JobDefinition = { id: 'cap-1', kind: 'capture', owner: 'node-1', camera: 'front', schedule: { kind: 'interval', everyMs: 5000 } };
const summary: JobDefinition = {
  id: 'sum-1',
  kind: 'ai-summary',
  owner: 'node-2',
  schedule: { kind: 'cron', expression: '0 7 * * *', timeZone: 'Europe/Berlin' },
};

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof JobValidationError) return `${err.field} | ${err.message}`;
    throw err;
  }
  throw new Error('expected a JobValidationError');
}

describe('jobs store', () => {
  let dir: string;
  let store: JobStore;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'glimpser-jobs-store-'));
    store = JobStore.open(dir, { keepPerJob: 5, maxAgeMs: 7 * DAY }, T0);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps job definitions with pause state across a reopen and filters by kind and camera', () => {
    store.upsertJob(capture, T0);
    store.upsertJob(summary, T0);
    store.setPaused('cap-1', true, T0 + 1);
    store.close();
    store = JobStore.open(dir, undefined, T0 + 2);
    // A new definition (a redeploy) keeps the stored pause state.
    store.upsertJob({ ...capture, schedule: { kind: 'interval', everyMs: 10_000 } }, T0 + 3);
    expect(store.getJob('cap-1')).toMatchObject({
      paused: true,
      camera: 'front',
      schedule: { kind: 'interval', everyMs: 10_000 },
      createdAt: T0,
      updatedAt: T0 + 3,
    });
    expect(store.listJobs({ kind: 'ai-summary' }).map((j) => j.id)).toEqual(['sum-1']);
    expect(store.listJobs({ camera: 'front' }).map((j) => j.id)).toEqual(['cap-1']);
    expect(store.listJobs().map((j) => j.id)).toEqual(['cap-1', 'sum-1']);
  });

  it('pages run history newest first with a cursor and refuses a cursor it did not make', () => {
    store.upsertJob(summary, T0);
    for (let i = 0; i < 5; i++) store.finishRun(store.startRun('sum-1', 'schedule', T0 + i, T0 + i).id, 'ok', T0 + i, null, `run ${i}`);
    const first = store.runs({ jobId: 'sum-1', limit: 2 });
    expect(first.runs.map((r) => r.output)).toEqual(['run 4', 'run 3']);
    const second = store.runs({ jobId: 'sum-1', limit: 2, cursor: first.next as string });
    expect(second.runs.map((r) => r.output)).toEqual(['run 2', 'run 1']);
    const last = store.runs({ jobId: 'sum-1', limit: 2, cursor: second.next as string });
    expect(last).toMatchObject({ next: null, runs: [{ output: 'run 0' }] });
    expect(fieldOf(() => store.runs({ jobId: 'sum-1', cursor: 'nonsense' }))).toMatch(/^cursor \|/);
    expect(fieldOf(() => store.runs({ jobId: 'sum-1', limit: 0 }))).toMatch(/^limit \|/);
  });

  it('retains runs by count per job and by age, and cuts long output to 1 KiB', () => {
    store.upsertJob(capture, T0);
    store.upsertJob(summary, T0);
    for (let i = 0; i < 8; i++) store.recordNotRun('cap-1', 'schedule', T0 + i, 'skipped', T0 + i, 'busy');
    expect(store.runs({ jobId: 'cap-1' }).runs.map((r) => r.scheduledFor)).toEqual([7, 6, 5, 4, 3].map((i) => T0 + i));
    store.recordNotRun('sum-1', 'schedule', T0, 'missed', T0, 'down');
    store.finishRun(store.startRun('sum-1', 'manual', null, T0 + 8 * DAY).id, 'ok', T0 + 8 * DAY, null, 'é'.repeat(MAX_OUTPUT_BYTES));
    const runs = store.runs({ jobId: 'sum-1' }).runs;
    expect(runs).toHaveLength(1);
    expect(Buffer.byteLength(runs[0].output as string)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    expect(runs[0].output).toMatch(/^é+\.\.\.$/);
  });

  it('closes a run left going by a stopped Glimpser as failed on open', () => {
    store.upsertJob(capture, T0);
    const run = store.startRun('cap-1', 'schedule', T0, T0);
    store.close();
    store = JobStore.open(dir, undefined, T0 + 1000);
    expect(store.runs({ jobId: 'cap-1' }).runs).toEqual([{ ...run, outcome: 'failed', endedAt: T0 + 1000, error: expect.stringMatching(/^interrupted/) }]);
  });

  it('refuses bad schedules with an error naming the field', () => {
    expect(fieldOf(() => parseSchedule({ kind: 'cron', expression: '61 * * * *', timeZone: 'UTC' }))).toMatch(
      /^schedule\.expression \| schedule\.expression: "61 \* \* \* \*" is not a valid cron/,
    );
    expect(fieldOf(() => parseSchedule({ kind: 'cron', expression: 'every day', timeZone: 'UTC' }))).toMatch(/^schedule\.expression \|/);
    expect(fieldOf(() => parseSchedule({ kind: 'cron', expression: '0 0 31 2 *', timeZone: 'UTC' }))).toMatch(/^schedule\.expression \|.*never matches/);
    expect(fieldOf(() => parseSchedule({ kind: 'cron', expression: '0 * * * *', timeZone: 'Mars/Olympus' }))).toMatch(
      /^schedule\.timeZone \|.*IANA.*"Mars\/Olympus"/,
    );
    expect(fieldOf(() => parseSchedule({ kind: 'interval', everyMs: 0 }))).toMatch(/^schedule\.everyMs \|.*at least 1000, got 0/);
    expect(fieldOf(() => parseSchedule({ kind: 'interval', everyMs: 1500.5 }))).toMatch(/^schedule\.everyMs \|/);
    expect(fieldOf(() => parseSchedule({ kind: 'weekly' }))).toMatch(/^schedule\.kind \|/);
    expect(fieldOf(() => store.upsertJob({ ...capture, schedule: { kind: 'interval', everyMs: 0 } }, T0))).toMatch(/^schedule\.everyMs \|/);
    expect(parseSchedule({ kind: 'cron', expression: '30 2 * * *', timeZone: 'Europe/Berlin' })).toEqual({
      kind: 'cron',
      expression: '30 2 * * *',
      timeZone: 'Europe/Berlin',
    });
  });
});
