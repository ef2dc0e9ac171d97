import cron, { type ScheduledTask } from 'node-cron';
import type { Frame } from '../frames/frame';

/** How a capture node picks frames from its camera's stream. */
export type CaptureMode =
  | { kind: 'continuous'; fps: number }
  | { kind: 'interval'; everyMs: number }
  | { kind: 'on-demand'; timeoutMs: number }
  | { kind: 'cron'; expression: string; timeZone?: string; timeoutMs: number };

/** Checks a cron expression (5 or 6 fields, node-cron syntax) and names the problem. */
export function checkCronExpression(expression: string, timeZone?: string): void {
  if (!cron.validate(expression)) throw new Error(`cron expression ${JSON.stringify(expression)} is invalid: expected 5 or 6 fields like "*/5 * * * *" (every 5 minutes)`);
  if (timeZone) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      throw new Error(`time zone ${JSON.stringify(timeZone)} is not an IANA zone like "Europe/Paris"`);
    }
  }
}

type Emit = (frame: Frame) => void;

/**
 * Turns a camera's frame stream into the frames one consumer wants: at most N fps, the newest frame every N ms,
 * or the newest frame when asked. It never sends the same frame twice and never buffers more than one frame.
 */
export class FrameSampler {
  private latest: Frame | null = null;
  private lastSent: Frame | null = null;
  private lastSentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private task: ScheduledTask | null = null;
  private readonly waiters = new Set<{ resolve: (f: Frame) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly mode: CaptureMode, private readonly emit: Emit, private readonly onError: (err: Error) => void = () => undefined) {
    if (mode.kind === 'interval') {
      this.timer = setInterval(() => this.sendLatest(), mode.everyMs);
      this.timer.unref?.();
    }
    if (mode.kind === 'cron') {
      checkCronExpression(mode.expression, mode.timeZone);
      this.task = cron.schedule(mode.expression, () => this.request().then(() => undefined, this.onError), { timezone: mode.timeZone, noOverlap: true });
    }
  }

  offer(frame: Frame): void {
    this.latest = frame;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
    }
    this.waiters.clear();
    if (this.mode.kind === 'continuous' && frame.meta.timestamp - this.lastSentAt >= 1000 / this.mode.fps - 1) this.send(frame);
  }

  /** On-demand: the newest frame not sent before, or the next one to arrive within the timeout. */
  request(): Promise<Frame> {
    const timeoutMs = this.mode.kind === 'on-demand' || this.mode.kind === 'cron' ? this.mode.timeoutMs : 10000;
    if (this.latest && this.latest !== this.lastSent) {
      const frame = this.latest;
      this.send(frame);
      return Promise.resolve(frame);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (frame: Frame) => {
          this.send(frame);
          resolve(frame);
        },
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no frame from the camera within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private sendLatest(): void {
    if (this.latest && this.latest !== this.lastSent) this.send(this.latest);
  }

  private send(frame: Frame): void {
    this.lastSent = frame;
    this.lastSentAt = frame.meta.timestamp;
    this.emit(frame);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.task) void this.task.destroy();
    for (const waiter of this.waiters) clearTimeout(waiter.timer);
    this.waiters.clear();
  }
}
