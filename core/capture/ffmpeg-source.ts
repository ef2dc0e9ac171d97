import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { assertCameraId, type Frame } from '../frames/frame';
import { JpegSplitter, jpegDimensions, type JpegRejectReason } from '../frames/jpeg';
import { silentLogger, type Logger } from '../log/logger';
import { WindowRateLimiter } from '../log/rate-limit';
import { metrics } from '../metrics';
import { buildFfmpegArgs, GREY_PIPE_FD, GreyPlaneReader, type CaptureOutput, type GreyOutput } from './ffmpeg-args';
import { isHwDeviceFailure, resolveHwAccel, type HwAccel } from './hwaccel';
import { redactText, type CaptureInput } from './input';
import type { CameraState, CameraStatus, FrameSource } from './source';

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

const FPS_WINDOW_MS = 5000;
const KILL_GRACE_MS = 2000;
/** ffmpeg 5 prints this for every JPEG it encodes from limited-range video; it is expected, not a fault. */
const BENIGN_STDERR = [/deprecated pixel format used/, /^\s*Last message repeated \d+ times?$/];

/** Every child still running, so a dying Node process takes its camera processes with it. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

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
  private run: Run | null = null;
  private running = false;
  private state: CameraState = 'stopped';
  private lastError: string | null = null;
  private lastFrameAt: number | null = null;
  private restarts = 0;
  private sequence = 0;
  private backoffMs = 0;
  private frameTimes: number[] = [];
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
    this.restarts = 0;
    this.sequence = 0;
    this.backoffMs = this.opts.backoff.initialMs;
    this.lastError = null;
    this.lastFrameAt = null;
    this.spawnRun();
  }

  stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stallTimer);
    this.stderrLimit.flush();
    const run = this.run;
    this.run = null;
    this.setState('stopped');
    if (run === null) return Promise.resolve();
    this.terminate(run, 'stop');
    return run.closed;
  }

  status(): CameraStatus {
    const { camera, state, lastFrameAt, lastError, restarts } = this;
    return { camera, state, fps: this.fps(), lastFrameAt, lastError, restarts };
  }

  private spawnRun(): void {
    const { ffmpegPath, grey } = this.opts;
    this.setState('connecting');
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
      if (child.pid === undefined) this.countError('spawn');
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
      this.setLastError(`picture size changed to ${size.width}x${size.height}: restarting ffmpeg`);
      this.terminate(run, 'resize');
      return;
    }
    const at = performance.now();
    run.lastProgressAt = at;
    run.frames += 1;
    this.lastFrameAt = this.opts.now();
    this.sequence += 1;
    this.frameTimes.push(at);
    const frame: Frame = {
      jpeg,
      meta: { camera: this.camera, timestamp: this.lastFrameAt, sequence: this.sequence, ...size, bytes: jpeg.length },
    };
    metrics.framesTotal.inc({ camera: this.camera });
    metrics.frameBytesTotal.inc({ camera: this.camera }, jpeg.length);
    metrics.cameraFps.set({ camera: this.camera }, this.fps());
    this.setState('online');
    this.emit('frame', frame);
    run.grey?.jpeg(frame.meta);
  }

  /** A dropped JPEG still had a plane written for it, so it keeps its place in the pairing. */
  private onReject(run: Run, reason: JpegRejectReason, bytes: number): void {
    metrics.framesRejectedTotal.inc({ camera: this.camera, reason });
    this.countError(reason === 'oversize' ? 'oversize' : 'decode');
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
      if (/error while decoding|corrupt|concealing|invalid data/i.test(line)) this.countError('decode');
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
      this.setState('stopped');
      return;
    }
    if (run.killedFor === null) {
      if (run.child.pid !== undefined) this.countError('exit');
      // A live input that ends cleanly was closed by the other side, as a camera that restarts or loses power.
      this.setLastError(run.lastStderr ?? (code === 0 ? 'the stream ended: the camera closed the connection' : `ffmpeg ${how}`));
    }
    if (this.hwaccelOn && run.frames === 0 && isHwDeviceFailure(run.lastStderr ?? '')) {
      this.hwaccelOn = false;
      this.args = buildFfmpegArgs(input, output, { grey });
      this.fallBackToSoftware(`hardware decoding failed (${run.lastStderr ?? how}): decoding in software`);
    }
    this.setState('offline');
    if (ranMs >= this.opts.stableAfterMs) this.backoffMs = this.opts.backoff.initialMs;
    const delay = (this.backoffMs = nextBackoffMs(this.backoffMs, this.opts.backoff));
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.restarts += 1;
      metrics.captureRestartsTotal.inc({ camera: this.camera });
      this.spawnRun();
    }, delay);
  }

  private fallBackToSoftware(reason: string): void {
    this.log.warn({ camera: this.camera }, reason);
    this.countError('hwaccel_fallback');
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
      this.countError('stall');
      this.setLastError(`no frame for ${Math.round(quietMs / 1000)} s: restarting ffmpeg`);
      this.setState('offline');
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

  private setState(state: CameraState): void {
    if (state === this.state) return;
    this.state = state;
    if (state !== 'online') this.frameTimes = [];
    metrics.cameraOnline.set({ camera: this.camera }, state === 'online' ? 1 : 0);
    if (state !== 'online') metrics.cameraFps.set({ camera: this.camera }, 0);
    this.log.info({ camera: this.camera, state, lastError: this.lastError }, `camera ${state}`);
    this.emit('status', this.status());
  }

  private setLastError(error: string): void {
    if (error === this.lastError) return;
    this.lastError = error;
    this.emit('status', this.status());
  }

  private countError(kind: 'exit' | 'spawn' | 'stall' | 'decode' | 'oversize' | 'hwaccel_fallback'): void {
    metrics.captureErrorsTotal.inc({ camera: this.camera, kind });
  }

  /** Frames per second over the last few seconds, from the spacing of the frames actually delivered. */
  private fps(): number {
    const now = performance.now();
    while (this.frameTimes.length > 0 && now - this.frameTimes[0] > FPS_WINDOW_MS) this.frameTimes.shift();
    const times = this.frameTimes;
    if (times.length < 2) return 0;
    return Math.round(((times.length - 1) * 1000 * 100) / (times[times.length - 1] - times[0])) / 100;
  }

  private redact(text: string): string {
    return this.opts.input.kind === 'url' ? redactText(text, this.opts.input.url) : text;
  }
}

/**
 * Decorrelated jitter (AWS architecture blog): never shorter than the initial delay, so a failing input
 * cannot restart in a tight loop, and spread out so many cameras behind one dead NVR do not retry in step.
 * Takes the previous delay (the initial one for a first retry) and returns the next.
 */
export function nextBackoffMs(previousMs: number, { initialMs, maxMs }: { initialMs: number; maxMs: number }): number {
  const delay = Math.min(maxMs, initialMs + Math.random() * (Math.max(previousMs, initialMs) * 3 - initialMs));
  return Math.max(initialMs, delay);
}

/** Signals a child started with `detached: true` together with anything it started (its process group). */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone: nothing left to stop.
  }
}

/** Makes a detached child's process group die with this Node process, should Node exit while it runs. */
export function killWithNode(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const live of liveChildren) if (live.pid !== undefined) signalGroup(live.pid, 'SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('close', () => liveChildren.delete(child));
}
