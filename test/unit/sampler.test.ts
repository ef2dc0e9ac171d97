import { checkCronExpression, FrameSampler } from '../../core/capture/sampler';
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

  it('interval mode sends the newest frame each period and never the same frame twice', () => {
    jest.useFakeTimers();
    const sent: number[] = [];
    const sampler = new FrameSampler({ kind: 'interval', everyMs: 1000 }, (f) => sent.push(f.meta.sequence));
    sampler.offer(frame(1, 0));
    sampler.offer(frame(2, 100));
    jest.advanceTimersByTime(1000);
    jest.advanceTimersByTime(1000);
    sampler.offer(frame(3, 2100));
    jest.advanceTimersByTime(1000);
    expect(sent).toEqual([2, 3]);
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

  it('cron mode takes the newest frame on each tick of the expression', async () => {
    const sent: number[] = [];
    let ticked!: () => void;
    const tick = new Promise<void>((resolve) => (ticked = resolve));
    const sampler = new FrameSampler({ kind: 'cron', expression: '* * * * * *', timeoutMs: 3000 }, (f) => {
      sent.push(f.meta.sequence);
      ticked();
    });
    sampler.offer(frame(1, 0));
    sampler.offer(frame(2, 10));
    await tick;
    expect(sent).toEqual([2]);
    sampler.close();
  });

  it.each([
    ['every minute', undefined, /cron expression "every minute" is invalid/],
    ['*/5 * * * *', 'Mars/Olympus', /time zone "Mars\/Olympus" is not an IANA zone/],
  ])('refuses the cron expression %j (zone %j) with a clear message', (expression, zone, message) => {
    expect(() => checkCronExpression(expression, zone)).toThrow(message);
  });
});
