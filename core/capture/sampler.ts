import type { Frame } from '../frames/frame';
import { JobValidationError, MIN_INTERVAL_MS, parseSchedule, type JobSchedule } from '../jobs/schedule';

/** How a capture node picks frames from its camera's stream. */
export type CaptureMode =
  | { kind: 'continuous'; fps: number }
  | { kind: 'interval'; everyMs: number }
  | { kind: 'on-demand'; timeoutMs: number }
  | { kind: 'cron'; expression: string; timeZone?: string; timeoutMs: number };

/** The zone a schedule with an empty time zone setting is read in: the machine's own. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** A cron setting that cannot be used; `part` says which: the expression or its time zone (nodes name their setting). */
export class CronSettingError extends Error {
  constructor(
    readonly part: 'expression' | 'timeZone',
    message: string,
  ) {
    super(message);
    this.name = 'CronSettingError';
  }
}

/**
 * A cron setting (5 or 6 fields, croner syntax; an empty zone is the machine's) as a job schedule, checked by the jobs' own parser (croner), so a node refuses exactly what the
 * scheduler would; the message keeps naming the setting in the node's words (cron expression, time zone).
 */
export function cronSchedule(expression: string, timeZone?: string): JobSchedule {
  try {
    return parseSchedule({ kind: 'cron', expression, timeZone: timeZone || localTimeZone() });
  } catch (err) {
    if (!(err instanceof JobValidationError)) throw err;
    if (err.field === 'schedule.timeZone')
      throw new CronSettingError('timeZone', `time zone ${JSON.stringify(timeZone)} is not an IANA zone like "Europe/Paris"`);
    throw new CronSettingError(
      'expression',
      `cron expression ${JSON.stringify(expression)} is invalid: expected 5 or 6 fields like "*/5 * * * *" (every 5 minutes)`,
    );
  }
}

/**
 * When a capture mode takes frames on a schedule, that schedule as a job (core/jobs runs it, so it is listed, paused
 * and run from the API); null for continuous and on-demand modes, and for intervals under a second, which are a
 * frame rate (sampled like continuous mode), not a schedule.
 */
export function captureSchedule(mode: CaptureMode): JobSchedule | null {
  if (mode.kind === 'cron') return cronSchedule(mode.expression, mode.timeZone);
  if (mode.kind === 'interval' && mode.everyMs >= MIN_INTERVAL_MS) return parseSchedule({ kind: 'interval', everyMs: Math.round(mode.everyMs) });
  return null;
}

type Emit = (frame: Frame) => void;

/** Asks the camera for JPEGs until the returned function is called (Camera.demandJpeg). */
export type JpegDemand = () => () => void;

/** On demand, a frame at most this old is sent at once; an older one is not what "now" means. */
const FRESH_MS = 1000;

/**
 * Turns a camera's frame stream into the frames one consumer wants: at most N fps, or a fresh frame when asked (by
 * a message, or by the capture's job on its interval or cron schedule: see captureSchedule). It never sends the same frame twice and never buffers more than one frame. Except in
 * continuous mode it asks the camera for JPEGs only while it waits for one (`demand`), so a camera watched every
 * minute encodes one JPEG a minute.
 */
export class FrameSampler {
  private latest: Frame | null = null;
  private latestAt = 0;
  private lastSent: Frame | null = null;
  private lastSentAt = 0;
  private readonly waiters = new Set<{ resolve: (f: Frame) => void; timer: NodeJS.Timeout }>();
  private releaseDemand: (() => void) | null = null;

  constructor(
    private readonly mode: CaptureMode,
    private readonly emit: Emit,
    private readonly demand: JpegDemand = () => () => undefined,
  ) {}

  offer(frame: Frame): void {
    this.latest = frame;
    this.latestAt = Date.now();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
    }
    this.settled();
    const fps =
      this.mode.kind === 'continuous' ? this.mode.fps : this.mode.kind === 'interval' && this.mode.everyMs < MIN_INTERVAL_MS ? 1000 / this.mode.everyMs : 0;
    if (fps > 0 && frame.meta.timestamp - this.lastSentAt >= 1000 / fps - 1) this.send(frame);
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
    for (const waiter of this.waiters) clearTimeout(waiter.timer);
    this.settled();
  }
}
