import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JobContext, JobDefinition, JobRun } from '../../core/jobs/index';
import { ManualClock } from '../../core/jobs/manual-clock';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';

const T0 = Date.UTC(2026, 4, 4, 10, 30);
const HOUR = 3600_000;

describe('job scheduler', () => {
  let dir: string;
  let clock: ManualClock;
  let store: JobStore;
  let scheduler: Scheduler;
  let recorded: JobRun[];

  function start(at: number): void {
    clock = new ManualClock(at);
    store = JobStore.open(dir, undefined, at);
    scheduler = new Scheduler({ store, clock });
    recorded = [];
    scheduler.onRun((run) => recorded.push(run));
  }

  async function stop(): Promise<void> {
    await scheduler.close();
    store.close();
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'glimpser-jobs-'));
    start(T0);
  });
  afterEach(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a 1 s job whose task takes 2.5 s without overlap, records skipped ticks, pauses, resumes and runs now while paused', async () => {
    let active = 0;
    let most = 0;
    const task = async ({ signal }: JobContext): Promise<string> => {
      active++;
      most = Math.max(most, active);
      try {
        await clock.sleep(2500, signal);
      } finally {
        active--;
      }
      return 'done';
    };
    scheduler.register({ id: 'slow', kind: 'test', owner: 'system', schedule: { kind: 'interval', everyMs: 1000 } }, task);
    expect(scheduler.nextRuns('slow', 3)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);

    await clock.advance(1000);
    expect(scheduler.state('slow').status).toBe('running');
    await clock.advanceTo(T0 + 4000);
    expect(recorded.map((r) => [r.outcome, r.scheduledFor])).toEqual([
      ['skipped', T0 + 2000],
      ['skipped', T0 + 3000],
      ['ok', T0 + 1000],
    ]);
    expect(recorded[2]).toMatchObject({ startedAt: T0 + 1000, endedAt: T0 + 3500, output: 'done', trigger: 'schedule' });
    expect(scheduler.state('slow').status).toBe('running');

    scheduler.pause('slow');
    await clock.advanceTo(T0 + 10_000);
    // The run going when it was paused finishes; nothing starts after it.
    expect(recorded.map((r) => r.outcome)).toEqual(['skipped', 'skipped', 'ok', 'ok']);
    expect(scheduler.state('slow')).toMatchObject({ status: 'paused', paused: true, nextRuns: [] });

    const manual = scheduler.runNow('slow');
    expect(scheduler.state('slow').status).toBe('running');
    await expect(scheduler.runNow('slow')).resolves.toMatchObject({ trigger: 'manual', outcome: 'skipped' });
    await clock.advance(2500);
    await expect(manual).resolves.toMatchObject({ trigger: 'manual', outcome: 'ok', scheduledFor: null, startedAt: T0 + 10_000 });
    expect(scheduler.state('slow').status).toBe('paused');

    scheduler.resume('slow');
    expect(scheduler.nextRuns('slow', 1)).toEqual([T0 + 13_500]);
    const before = recorded.length;
    await clock.advanceTo(T0 + 13_500);
    expect(scheduler.state('slow').status).toBe('running');
    await clock.advanceTo(T0 + 16_000);
    expect(recorded.slice(before).map((r) => [r.outcome, r.scheduledFor])).toEqual([
      ['skipped', T0 + 14_500],
      ['skipped', T0 + 15_500],
      ['ok', T0 + 13_500],
    ]);
    expect(most).toBe(1);
    expect(
      store
        .runs({ jobId: 'slow' })
        .runs.map((r) => r.id)
        .sort((a, b) => a - b),
    ).toEqual(recorded.map((r) => r.id).sort((a, b) => a - b));
  });

  it('does the same on the real clock: a tick during a run is skipped, and run-now works while paused', async () => {
    await scheduler.close();
    scheduler = new Scheduler({ store });
    const skipped = new Promise<JobRun>((resolve) => scheduler.onRun((run) => run.outcome === 'skipped' && resolve(run)));
    const finished = new Promise<JobRun>((resolve) => scheduler.onRun((run) => run.outcome === 'ok' && resolve(run)));
    // The first run lasts until the next tick has been recorded as skipped: an overrun, however fast the machine.
    scheduler.register({ id: 'real', kind: 'test', owner: 'system', schedule: { kind: 'interval', everyMs: 1000 } }, async () => {
      await skipped;
      return 'overran';
    });
    await expect(finished).resolves.toMatchObject({ trigger: 'schedule', output: 'overran' });
    expect(await skipped).toMatchObject({ trigger: 'schedule', error: 'the previous run was still going' });
    scheduler.pause('real');
    await expect(scheduler.runNow('real')).resolves.toMatchObject({ trigger: 'manual', outcome: 'ok' });
    expect(scheduler.state('real')).toMatchObject({ status: 'paused', nextRuns: [] });
  });

  it('keeps a job paused across a restart', async () => {
    const def: JobDefinition = { id: 'p', kind: 'test', owner: 'system', schedule: { kind: 'interval', everyMs: 1000 } };
    scheduler.register(def, async () => undefined);
    scheduler.pause('p');
    await stop();
    start(T0 + HOUR);
    scheduler.register(def, async () => undefined);
    await clock.advance(10_000);
    expect(scheduler.state('p').status).toBe('paused');
    // A paused job was not meant to run: nothing is missed.
    expect(recorded).toEqual([]);
  });

  it('records the runs due while it was stopped as missed on start, and a catch-up job runs once', async () => {
    const hourly = { kind: 'cron' as const, expression: '0 * * * *', timeZone: 'UTC' };
    const plain: JobDefinition = { id: 'plain', kind: 'test', owner: 'system', schedule: hourly };
    const catching: JobDefinition = { id: 'catching', kind: 'test', owner: 'system', schedule: hourly, catchUp: true };
    const ran: string[] = [];
    const task = (id: string) => async (ctx: JobContext) => {
      ran.push(`${id}:${ctx.trigger}:${ctx.scheduledFor === null ? '' : new Date(ctx.scheduledFor).toISOString()}`);
    };
    scheduler.register(plain, task('plain'));
    scheduler.register(catching, task('catching'));
    expect(scheduler.nextRuns('plain', 1)).toEqual([Date.UTC(2026, 4, 4, 11)]);
    await stop();

    // Down from 10:30 to 12:45: the 11:00 and 12:00 runs were due.
    start(Date.UTC(2026, 4, 4, 12, 45));
    const caughtUp = new Promise<JobRun>((resolve) => scheduler.onRun((run) => run.trigger === 'catch-up' && resolve(run)));
    scheduler.register(plain, task('plain'));
    scheduler.register(catching, task('catching'));
    await expect(caughtUp).resolves.toMatchObject({ jobId: 'catching', outcome: 'ok', scheduledFor: Date.UTC(2026, 4, 4, 12) });

    for (const id of ['plain', 'catching']) {
      const missed = store.runs({ jobId: id }).runs.filter((r) => r.outcome === 'missed');
      expect(missed.map((r) => r.scheduledFor).sort()).toEqual([Date.UTC(2026, 4, 4, 11), Date.UTC(2026, 4, 4, 12)]);
    }
    expect(ran).toEqual(['catching:catch-up:2026-05-04T12:00:00.000Z']);
    expect(scheduler.nextRuns('plain', 1)).toEqual([Date.UTC(2026, 4, 4, 13)]);

    await clock.advanceTo(Date.UTC(2026, 4, 4, 13));
    expect(ran.slice(1).sort()).toEqual(['catching:schedule:2026-05-04T13:00:00.000Z', 'plain:schedule:2026-05-04T13:00:00.000Z']);
  });

  it('records a task that throws as failed with its error, and aborts a run that is going on close', async () => {
    scheduler.register({ id: 'bad', kind: 'test', owner: 'system', schedule: { kind: 'interval', everyMs: 5000 } }, async () => {
      throw new Error('camera unreachable');
    });
    await expect(scheduler.runNow('bad')).resolves.toMatchObject({ outcome: 'failed', error: 'camera unreachable' });
    expect(store.getJob('bad')).toMatchObject({ lastOutcome: 'failed', lastRunAt: T0 });

    let aborted = false;
    scheduler.register({ id: 'long', kind: 'test', owner: 'system', schedule: { kind: 'interval', everyMs: 5000 } }, async ({ signal }) => {
      await clock.sleep(HOUR, signal).catch((err: unknown) => {
        aborted = true;
        throw err;
      });
    });
    const run = scheduler.runNow('long');
    await scheduler.close();
    expect(aborted).toBe(true);
    await expect(run).resolves.toMatchObject({ outcome: 'failed' });
  });
});
