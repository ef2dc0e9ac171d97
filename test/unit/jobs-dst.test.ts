import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JobSchedule } from '../../core/jobs/index';
import { ManualClock } from '../../core/jobs/manual-clock';
import { scheduledTimes } from '../../core/jobs/schedule';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';

/** Local wall-clock time in Berlin, as people there read it: `2026-03-29 03:00`. */
function berlin(at: number): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', dateStyle: 'short', timeStyle: 'short' }).format(at);
}

const daily: JobSchedule = { kind: 'cron', expression: '30 2 * * *', timeZone: 'Europe/Berlin' };
const hourly: JobSchedule = { kind: 'cron', expression: '0 * * * *', timeZone: 'Europe/Berlin' };

/** Runs a scheduler on a hand-moved clock from `from` to `to` and returns the local times a job ran at. */
async function runAcross(schedule: JobSchedule, from: string, to: string): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-jobs-dst-'));
  const clock = new ManualClock(Date.parse(from));
  const store = JobStore.open(dir, undefined, clock.now());
  const scheduler = new Scheduler({ store, clock });
  const ran: string[] = [];
  scheduler.register({ id: 'dst', kind: 'test', owner: 'system', schedule }, async () => {
    ran.push(berlin(clock.now()));
  });
  try {
    await clock.advanceTo(Date.parse(to));
  } finally {
    await scheduler.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return ran;
}

describe('job schedules across daylight-saving changes (Europe/Berlin, croner)', () => {
  it('runs a daily 02:30 job once per local day in spring; the 02:30 that does not exist runs at 03:00', async () => {
    // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST, so 02:30 never happens that day.
    expect(await runAcross(daily, '2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z')).toEqual([
      '2026-03-28 02:30',
      '2026-03-29 03:00',
      '2026-03-30 02:30',
      '2026-03-31 02:30',
    ]);
  });

  it('runs a daily 02:30 job once per local day in autumn; the 02:30 that happens twice runs at its first (summer time)', async () => {
    // 2026-10-25: clocks go from 03:00 CEST back to 02:00 CET, so 02:30 happens at 00:30Z and again at 01:30Z.
    const ran = await runAcross(daily, '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z');
    expect(ran).toEqual(['2026-10-24 02:30', '2026-10-25 02:30', '2026-10-26 02:30', '2026-10-27 02:30']);
    const onTheDay = scheduledTimes(daily, Date.parse('2026-10-24T22:00:00Z'), 5, Date.parse('2026-10-25T23:00:00Z'));
    expect(onTheDay.map((t) => new Date(t).toISOString())).toEqual(['2026-10-25T00:30:00.000Z']);
  });

  it('runs an hourly job 23 times on the 23-hour spring day: there is no 02:00', async () => {
    // The local day 2026-03-29 runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z.
    const ran = await runAcross(hourly, '2026-03-28T22:59:00Z', '2026-03-29T21:59:00Z');
    expect(ran).toHaveLength(23);
    expect(ran.filter((t) => t.startsWith('2026-03-29 02'))).toEqual([]);
    expect(new Set(ran).size).toBe(23);
  });

  it('runs an hourly job 25 times on the 25-hour autumn day: 02:00 runs in summer time and again in winter time', async () => {
    // The local day 2026-10-25 runs from 2026-10-24T22:00Z to 2026-10-25T23:00Z.
    const ran = await runAcross(hourly, '2026-10-24T21:59:00Z', '2026-10-25T22:59:00Z');
    expect(ran).toHaveLength(25);
    expect(ran.filter((t) => t === '2026-10-25 02:00')).toHaveLength(2);
    const times = scheduledTimes(hourly, Date.parse('2026-10-24T21:59:00Z'), 30, Date.parse('2026-10-25T22:59:00Z'));
    expect(times.slice(1).every((t, i) => t - times[i] === 3600_000)).toBe(true);
  });
});
