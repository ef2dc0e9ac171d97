import { currentVersion } from '../../../nodes/shared/config';
import { jobConfig, jobConfigFrom, jobScheduleOf } from '../../../nodes/job/schema';

describe('job node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(jobConfig.schema)).toBe(1);
    expect(jobConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it', () => {
    const v1 = {
      id: 'j1',
      type: 'job',
      z: 'tab',
      x: 150,
      y: 120,
      wires: [['work']],
      version: 1,
      name: 'nightly',
      scheduleKind: 'cron',
      cron: '30 2 * * *',
      timeZone: 'Europe/Berlin',
      interval: '60',
      catchUp: true,
      timeout: '120',
    };
    const settings = jobConfigFrom(v1);
    expect(settings).toEqual({
      version: 1,
      name: 'nightly',
      scheduleKind: 'cron',
      cron: '30 2 * * *',
      timeZone: 'Europe/Berlin',
      interval: 60,
      catchUp: true,
      timeout: 120,
    });
    expect(jobScheduleOf(settings)).toEqual({ kind: 'cron', expression: '30 2 * * *', timeZone: 'Europe/Berlin' });
  });

  it('reads a node saved without settings as version 1: hourly, in the machine zone, 5 minutes to report', () => {
    expect(jobConfigFrom({ id: 'j1', type: 'job' })).toMatchObject({
      version: 1,
      scheduleKind: 'cron',
      cron: '0 * * * *',
      timeZone: '',
      catchUp: false,
      timeout: 300,
    });
    expect(jobScheduleOf(jobConfigFrom({ scheduleKind: 'interval', interval: 90 }))).toEqual({ kind: 'interval', everyMs: 90_000 });
  });

  it.each([
    [{ cron: 'every day' }, /^job setting "cron": "every day" is not a valid cron expression/],
    [{ cron: '0 0 31 2 *' }, /^job setting "cron": .*never matches/],
    [{ timeZone: 'Mars/Olympus' }, 'job setting "timeZone": "Mars/Olympus" is not an IANA zone like "Europe/Paris"'],
    [{ scheduleKind: 'interval', interval: 0 }, 'job setting "interval" must be at least 1 second, got 0'],
    [{ scheduleKind: 'weekly' }, /^job setting "scheduleKind" must/],
    [{ timeout: 0 }, 'job setting "timeout" must be >= 1'],
    [{ surprise: 1 }, 'job setting "surprise" must NOT have additional properties'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => jobConfigFrom(def)).toThrow(message);
  });
});
