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
  if (!cron.validate(expression))
    throw new Error(`cron expression ${JSON.stringify(expression)} is invalid: expected 5 or 6 fields like "*/5 * * * *" (every 5 minutes)`);
  if (timeZone) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      throw new Error(`time zone ${JSON.stringify(timeZone)} is not an IANA zone like "Europe/Paris"`);
    }
  }
}

type Emit = (frame: Frame) => void;

/** Asks the camera for JPEGs until the returned function is called (Camera.demandJpeg). */
export type JpegDemand = () => () => void;

/** On demand, a frame at most this old is sent at once; an older one is not what "now" means. */
const FRESH_MS = 1000;

/**
 * Turns a camera's frame stream into the frames one consumer wants: at most N fps, a fresh frame every N ms, or a
 * fresh frame when asked. It never sends the same frame twice and never buffers more than one frame. Except in
 * continuous mode it asks the camera for JPEGs only while it waits for one (`demand`), so a camera watched every
 * minute encodes one JPEG a minute.
 */
export class FrameSampler {
  private latest: Frame | null = null;
  private latestAt = 0;
  private lastSent: Frame | null = null;
  private lastSentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private task: ScheduledTask | null = null;
  private readonly waiters = new Set<{ resolve: (f: Frame) => void; timer: NodeJS.Timeout }>();
  private releaseDemand: (() => void) | null = null;

  constructor(
    private readonly mode: CaptureMode,
    private readonly emit: Emit,
    private readonly onError: (err: Error) => void = () => undefined,
    private readonly demand: JpegDemand = () => () => undefined,
  ) {
    if (mode.kind === 'interval') {
      // A tick whose camera gives no frame in time is skipped quietly: the camera's state says why.
      this.timer = setInterval(() => {
        if (this.waiters.size === 0) this.request().catch(() => undefined);
      }, mode.everyMs);
      this.timer.unref?.();
    }
    if (mode.kind === 'cron') {
      checkCronExpression(mode.expression, mode.timeZone);
      this.task = cron.schedule(mode.expression, () => this.request().then(() => undefined, this.onError), { timezone: mode.timeZone, noOverlap: true });
    }
  }

  offer(frame: Frame): void {
    this.latest = frame;
    this.latestAt = Date.now();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
    }
    this.settled();
    if (this.mode.kind === 'continuous' && frame.meta.timestamp - this.lastSentAt >= 1000 / this.mode.fps - 1) this.send(frame);
  }

  /**
   * A fresh frame: the newest one if it was not sent before and is recent (within the interval in interval mode,
   * else a second), or the next one to arrive within the timeout, which the camera is asked to make.
   */
  request(): Promise<Frame> {
    const mode = this.mode;
    const timeoutMs = mode.kind === 'on-demand' || mode.kind === 'cron' ? mode.timeoutMs : mode.kind === 'interval' ? Math.min(mode.everyMs, 10000) : 10000;
    const maxAgeMs = mode.kind === 'interval' ? mode.everyMs : FRESH_MS;
    if (this.latest && this.latest !== this.lastSent && Date.now() - this.latestAt <= maxAgeMs) {
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
          this.settled();
          reject(new Error(`no frame from the camera within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      this.releaseDemand ??= this.demand();
    });
  }

  /** No one waits any more: the camera may stop making JPEGs for this sampler. */
  private settled(): void {
    this.waiters.clear();
    this.releaseDemand?.();
    this.releaseDemand = null;
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
    this.settled();
  }
}
