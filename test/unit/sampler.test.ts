import { captureSchedule, CronSettingError, cronSchedule, FrameSampler, localTimeZone } from '../../core/capture/sampler';
import type { Frame } from '../../core/frames/frame';

function frame(sequence: number, timestamp: number): Frame {
  return { jpeg: Buffer.from([0xff, 0xd8, sequence]), meta: { camera: 'demo', sequence, timestamp, width: 1, height: 1, bytes: 3 } };
}

describe('FrameSampler', () => {
  afterEach(() => jest.useRealTimers());

  it('continuous mode passes at most N frames per second', () => {
    const sent: number[] = [];
    const sampler = new FrameSampler({ kind: 'continuous', fps: 2 }, (f) => sent.push(f.meta.sequence));
    for (let i = 0; i < 10; i++) sampler.offer(frame(i + 1, 1000 + i * 100));
    expect(sent).toEqual([1, 6]);
    sampler.close();
  });

  it('interval mode, asked by its job each period, sends the newest frame and never the same frame twice', async () => {
    const sent: number[] = [];
    const sampler = new FrameSampler({ kind: 'interval', everyMs: 1000 }, (f) => sent.push(f.meta.sequence));
    sampler.offer(frame(1, 0));
    sampler.offer(frame(2, 100));
    await expect(sampler.request()).resolves.toMatchObject({ meta: { sequence: 2 } });
    const next = sampler.request();
    sampler.offer(frame(3, 2100));
    await expect(next).resolves.toMatchObject({ meta: { sequence: 3 } });
    expect(sent).toEqual([2, 3]);
    sampler.close();
  });

  it('an interval under a second is a frame rate: frames pass without being asked for, at most one per interval', () => {
    const sent: number[] = [];
    const sampler = new FrameSampler({ kind: 'interval', everyMs: 500 }, (f) => sent.push(f.meta.sequence));
    for (let i = 0; i < 10; i++) sampler.offer(frame(i + 1, 1000 + i * 100));
    expect(sent).toEqual([1, 6]);
    sampler.close();
  });

  it('on-demand mode answers with the newest unsent frame, or waits for the next one, or times out', async () => {
    jest.useFakeTimers();
    const sent: number[] = [];
    const sampler = new FrameSampler({ kind: 'on-demand', timeoutMs: 500 }, (f) => sent.push(f.meta.sequence));
    sampler.offer(frame(1, 0));
    await expect(sampler.request()).resolves.toMatchObject({ meta: { sequence: 1 } });
    const waiting = sampler.request();
    sampler.offer(frame(2, 10));
    await expect(waiting).resolves.toMatchObject({ meta: { sequence: 2 } });
    const late = sampler.request();
    jest.advanceTimersByTime(501);
    await expect(late).rejects.toThrow('no frame from the camera within 500 ms');
    expect(sent).toEqual([1, 2]);
    sampler.close();
  });

  it('interval and cron modes are job schedules; continuous, on-demand and sub-second intervals are not', () => {
    expect(captureSchedule({ kind: 'interval', everyMs: 5000 })).toEqual({ kind: 'interval', everyMs: 5000 });
    expect(captureSchedule({ kind: 'cron', expression: '*/5 * * * *', timeZone: 'Europe/Paris', timeoutMs: 3000 })).toEqual({
      kind: 'cron',
      expression: '*/5 * * * *',
      timeZone: 'Europe/Paris',
    });
    expect(captureSchedule({ kind: 'cron', expression: '0 * * * *', timeoutMs: 3000 })).toMatchObject({ timeZone: localTimeZone() });
    expect(captureSchedule({ kind: 'interval', everyMs: 500 })).toBeNull();
    expect(captureSchedule({ kind: 'continuous', fps: 2 })).toBeNull();
    expect(captureSchedule({ kind: 'on-demand', timeoutMs: 500 })).toBeNull();
  });

  it.each([
    ['every minute', undefined, /cron expression "every minute" is invalid/],
    ['61 * * * *', 'UTC', /cron expression "61 \* \* \* \*" is invalid/],
    ['*/5 * * * *', 'Mars/Olympus', /time zone "Mars\/Olympus" is not an IANA zone/],
  ])('refuses the cron expression %j (zone %j) with a clear message', (expression, zone, message) => {
    expect(() => cronSchedule(expression, zone)).toThrow(message);
  });

  it('says which part of a cron setting is wrong, so a node names its own setting', () => {
    const partOf = (expression: string, zone?: string): unknown => {
      try {
        cronSchedule(expression, zone);
      } catch (err) {
        return err instanceof CronSettingError ? err.part : err;
      }
    };
    expect(partOf('every minute')).toBe('expression');
    expect(partOf('0 0 31 2 *', 'UTC')).toBe('expression');
    expect(partOf('0 * * * *', 'Mars/Olympus')).toBe('timeZone');
  });
});
