import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { assertCameraId, type Frame } from '../frames/frame';
import { JpegSplitter, jpegDimensions, type JpegRejectReason } from '../frames/jpeg';
import { silentLogger, type Logger } from '../log/logger';
import { WindowRateLimiter } from '../log/rate-limit';
import { metrics } from '../metrics';
import { CameraStateTracker } from './camera-state';
import { killWithNode, nextBackoffMs, signalGroup } from './child-process';
import { buildFfmpegArgs, GREY_PIPE_FD, GreyPlaneReader, type CaptureOutput, type GreyOutput } from './ffmpeg-args';
import { isHwDeviceFailure, resolveHwAccel, type HwAccel } from './hwaccel';
import { redactText, type CaptureInput } from './input';
import type { CameraStatus, FrameSource } from './source';

export type { GreyPlane } from './ffmpeg-args';

export interface FfmpegSourceOptions {
  camera: string;
  input: CaptureInput;
  output: CaptureOutput;
  /** Also emit `grey` events from the same decode: each frame's luma plane, scaled to this height. */
  grey?: GreyOutput;
  /** Decode on a GPU; capture falls back to software decoding when the device is missing or unusable. */
  hwaccel?: HwAccel;
  /** Whether a GPU device node exists (see resolveHwAccel). */
  deviceExists?: (path: string) => boolean;
  ffmpegPath?: string;
  /** No frame for this long means the camera is offline and ffmpeg is restarted. */
  offlineAfterMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** A run at least this long is taken as healthy and resets the backoff. */
  stableAfterMs?: number;
  maxFrameBytes?: number;
  logger?: Logger;
  /** Clock for frame timestamps; durations use a monotonic clock so wall-clock jumps cannot fake a stall. */
  now?: () => number;
}

interface Run {
  child: ChildProcess;
  startedAt: number;
  lastProgressAt: number;
  frames: number;
  stderrTail: string;
  lastStderr: string | null;
  grey: GreyPlaneReader | null;
  killedFor: 'stall' | 'stop' | 'resize' | null;
  killTimer: NodeJS.Timeout | null;
  closed: Promise<void>;
}

const KILL_GRACE_MS = 2000;
/** ffmpeg 5 prints this for every JPEG it encodes from limited-range video; it is expected, not a fault. */
const BENIGN_STDERR = [/deprecated pixel format used/, /^\s*Last message repeated \d+ times?$/];


/** A camera read by an ffmpeg child process that is kept alive: restarted with backoff on exit or stall. */
export class FfmpegSource extends EventEmitter implements FrameSource {
  readonly camera: string;
  private readonly opts: Required<Pick<FfmpegSourceOptions, 'input' | 'output' | 'ffmpegPath' | 'offlineAfterMs' | 'stableAfterMs' | 'maxFrameBytes' | 'now'>> & {
    backoff: { initialMs: number; maxMs: number };
    grey?: GreyOutput;
  };
  private args: string[];
  private hwaccelOn: boolean;
  private readonly log: Logger;
  private readonly stderrLimit: WindowRateLimiter;
  private readonly tracker: CameraStateTracker;
  private run: Run | null = null;
  private running = false;
  private sequence = 0;
  private backoffMs = 0;
  private restartTimer?: NodeJS.Timeout;
  private stallTimer?: NodeJS.Timeout;

  constructor(options: FfmpegSourceOptions) {
    super();
    this.camera = assertCameraId(options.camera);
    const { input, output, grey } = options;
    this.opts = {
      input,
      output,
      grey,
      ffmpegPath: options.ffmpegPath ?? 'ffmpeg',
      offlineAfterMs: options.offlineAfterMs ?? 10000,
      backoff: { initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 30000 },
      stableAfterMs: options.stableAfterMs ?? 30000,
      maxFrameBytes: options.maxFrameBytes ?? 10 * 1024 * 1024,
      now: options.now ?? Date.now,
    };
    this.log = options.logger ?? silentLogger;
    this.tracker = new CameraStateTracker({ camera: this.camera, emitter: this, logger: this.log });
    const onSuppressed = (suppressed: number): void => this.log.warn({ camera: this.camera, suppressed }, `suppressed ${suppressed} more ffmpeg stderr lines`);
    this.stderrLimit = new WindowRateLimiter({ limit: 5, windowMs: 10000, onSuppressed });
    const hwaccel = resolveHwAccel(options.hwaccel ?? 'none', { exists: options.deviceExists });
    this.hwaccelOn = hwaccel.args.length > 0;
    // Built now so a bad output setting fails at configuration time, not on the first restart.
    this.args = buildFfmpegArgs(input, output, { grey, hwaccelArgs: hwaccel.args });
    if (hwaccel.warning !== null) this.fallBackToSoftware(hwaccel.warning);
  }

  /** The running ffmpeg's process id, for diagnostics; undefined between runs. */
  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tracker.reset();
    this.sequence = 0;
    this.backoffMs = this.opts.backoff.initialMs;
    this.spawnRun();
  }

  stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stallTimer);
    this.stderrLimit.flush();
    const run = this.run;
    this.run = null;
    this.tracker.setState('stopped');
    if (run === null) return Promise.resolve();
    this.terminate(run, 'stop');
    return run.closed;
  }

  status(): CameraStatus {
    return this.tracker.status();
  }

  private spawnRun(): void {
    const { ffmpegPath, grey } = this.opts;
    this.tracker.setState('connecting');
    this.log.debug({ camera: this.camera, args: this.args.map((arg) => this.redact(arg)) }, 'starting ffmpeg');
    const stdio: StdioOptions = grey === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'pipe'];
    const child = spawn(ffmpegPath, this.args, { stdio, detached: true });
    killWithNode(child);
    const splitter = new JpegSplitter({
      maxFrameBytes: this.opts.maxFrameBytes,
      onReject: (reason, bytes) => this.onReject(run, reason, bytes),
    });
    const startedAt = performance.now();
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const greyReader = grey === undefined ? null : new GreyPlaneReader(grey.height, (plane) => this.emit('grey', plane));
    const run: Run = {
      child, startedAt, lastProgressAt: startedAt, frames: 0, stderrTail: '', lastStderr: null, grey: greyReader, killedFor: null, killTimer: null, closed,
    };
    this.run = run;
    // Bytes still in the pipes of a run being killed would flip a stalled camera back to online.
    const live = (): boolean => this.run === run && run.killedFor === null;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (live()) for (const jpeg of splitter.push(chunk)) this.onFrame(run, jpeg);
    });
    child.stdio[GREY_PIPE_FD]?.on('data', (chunk: Buffer) => {
      if (live()) run.grey?.push(chunk);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.onStderr(run, text));
    child.on('error', (err: NodeJS.ErrnoException) => {
      run.lastStderr = err.code === 'ENOENT'
        ? `ffmpeg not found at ${ffmpegPath}: install the Debian package ffmpeg`
        : `ffmpeg could not be started (${ffmpegPath}): ${err.message}`;
      if (child.pid === undefined) this.tracker.countError('spawn');
    });
    // 'close' rather than 'exit': by then stderr is drained, so the line explaining the exit has been read.
    child.on('close', (code, signal) => {
      if (run.killTimer) clearTimeout(run.killTimer);
      this.onRunEnd(run, code, signal);
    });
    this.armStallTimer(this.opts.offlineAfterMs);
  }

  private onFrame(run: Run, jpeg: Buffer): void {
    const size = jpegDimensions(jpeg);
    if (size === null) {
      this.onReject(run, 'corrupt', jpeg.length);
      return;
    }
    if (run.grey !== null && !run.grey.fits(size)) {
      // The planes' size follows from the first JPEG's, so after a resolution change they cannot be framed.
      this.tracker.setLastError(`picture size changed to ${size.width}x${size.height}: restarting ffmpeg`);
      this.terminate(run, 'resize');
      return;
    }
    run.lastProgressAt = performance.now();
    run.frames += 1;
    this.sequence += 1;
    const frame: Frame = {
      jpeg,
      meta: { camera: this.camera, timestamp: this.opts.now(), sequence: this.sequence, ...size, bytes: jpeg.length },
    };
    this.tracker.frameDelivered(frame);
    this.emit('frame', frame);
    run.grey?.jpeg(frame.meta);
  }

  /** A dropped JPEG still had a plane written for it, so it keeps its place in the pairing. */
  private onReject(run: Run, reason: JpegRejectReason, bytes: number): void {
    metrics.framesRejectedTotal.inc({ camera: this.camera, reason });
    this.tracker.countError(reason === 'oversize' ? 'oversize' : 'decode');
    this.log.warn({ camera: this.camera, reason, bytes }, 'dropped a frame from ffmpeg');
    if (reason !== 'truncated') run.grey?.jpeg(null);
  }

  private onStderr(run: Run, text: string): void {
    const lines = (run.stderrTail + text).split(/\r\n|\r|\n/);
    // A line without its newline yet; capped so a runaway line cannot grow without bound.
    run.stderrTail = (lines.pop() ?? '').slice(-4096);
    for (const raw of lines) {
      const line = this.redact(raw.trim());
      if (line === '' || BENIGN_STDERR.some((pattern) => pattern.test(line))) continue;
      run.lastStderr = line;
      if (/error while decoding|corrupt|concealing|invalid data/i.test(line)) this.tracker.countError('decode');
      // A broken camera can print thousands of lines a second.
      if (this.stderrLimit.allow()) this.log.warn({ camera: this.camera, line }, 'ffmpeg');
    }
  }

  private onRunEnd(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.run !== run) return; // stopped, or already replaced
    this.run = null;
    clearTimeout(this.stallTimer);
    const ranMs = performance.now() - run.startedAt;
    const how = code !== null ? `exited with code ${code}` : `was killed by ${signal ?? 'a signal'}`;
    this.log.info({ camera: this.camera, code, signal, frames: run.frames, ranMs: Math.round(ranMs) }, `ffmpeg ${how}`);
    const { input, output, grey } = this.opts;
    if (input.kind === 'file' && input.loop !== true && code === 0 && run.killedFor === null) {
      // A clip played once has nothing more to give; restarting would silently loop it.
      this.running = false;
      this.tracker.setState('stopped');
      return;
    }
    if (run.killedFor === null) {
      if (run.child.pid !== undefined) this.tracker.countError('exit');
      // A live input that ends cleanly was closed by the other side, as a camera that restarts or loses power.
      this.tracker.setLastError(run.lastStderr ?? (code === 0 ? 'the stream ended: the camera closed the connection' : `ffmpeg ${how}`));
    }
    if (this.hwaccelOn && run.frames === 0 && isHwDeviceFailure(run.lastStderr ?? '')) {
      this.hwaccelOn = false;
      this.args = buildFfmpegArgs(input, output, { grey });
      this.fallBackToSoftware(`hardware decoding failed (${run.lastStderr ?? how}): decoding in software`);
    }
    this.tracker.setState('offline');
    if (ranMs >= this.opts.stableAfterMs) this.backoffMs = this.opts.backoff.initialMs;
    const delay = (this.backoffMs = nextBackoffMs(this.backoffMs, this.opts.backoff));
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.tracker.countRestart();
      this.spawnRun();
    }, delay);
  }

  private fallBackToSoftware(reason: string): void {
    this.log.warn({ camera: this.camera }, reason);
    this.tracker.countError('hwaccel_fallback');
  }

  /** One timer per run, re-armed lazily, rather than a clearTimeout/setTimeout pair for every frame. */
  private armStallTimer(delay: number): void {
    this.stallTimer = setTimeout(() => {
      const run = this.run;
      if (run === null) return;
      const quietMs = performance.now() - run.lastProgressAt;
      if (quietMs < this.opts.offlineAfterMs) {
        this.armStallTimer(this.opts.offlineAfterMs - quietMs);
        return;
      }
      this.tracker.countError('stall');
      this.tracker.setLastError(`no frame for ${Math.round(quietMs / 1000)} s: restarting ffmpeg`);
      this.tracker.setState('offline');
      this.terminate(run, 'stall');
    }, Math.max(1, delay));
  }

  /** SIGTERM to the whole process group, SIGKILL if it is still there after a grace period. */
  private terminate(run: Run, reason: NonNullable<Run['killedFor']>): void {
    run.killedFor ??= reason;
    const pid = run.child.pid;
    if (pid === undefined || run.child.exitCode !== null || run.child.signalCode !== null) return;
    signalGroup(pid, 'SIGTERM');
    run.killTimer ??= setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
  }

  private redact(text: string): string {
    return this.opts.input.kind === 'url' ? redactText(text, this.opts.input.url) : text;
  }
}
