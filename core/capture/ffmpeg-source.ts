import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { assertCameraId, type Frame } from '../frames/frame';
import { JpegSplitter, jpegDimensions, type JpegRejectReason } from '../frames/jpeg';
import { silentLogger, type Logger } from '../log/logger';
import { metrics } from '../metrics';
import { buildFfmpegArgs, type CaptureOutput } from './ffmpeg-args';
import { redactText, type CaptureInput } from './input';
import type { CameraState, CameraStatus, FrameSource } from './source';

export interface FfmpegSourceOptions {
  camera: string;
  input: CaptureInput;
  output: CaptureOutput;
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
  killedFor: 'stall' | 'stop' | null;
  killTimer: NodeJS.Timeout | null;
  closed: Promise<void>;
}

const FPS_WINDOW_MS = 5000;
const KILL_GRACE_MS = 2000;
const STDERR_LINES_PER_WINDOW = 5;
const STDERR_WINDOW_MS = 10000;
/** ffmpeg 5 prints this for every JPEG it encodes from limited-range video; it is expected, not a fault. */
const BENIGN_STDERR = [/deprecated pixel format used/, /^\s*Last message repeated \d+ times?$/];

/** Every ffmpeg still running, so a dying Node process takes its camera processes with it. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A camera read by an ffmpeg child process that is kept alive: restarted with backoff on exit or stall. */
export class FfmpegSource extends EventEmitter implements FrameSource {
  readonly camera: string;
  private readonly opts: Required<Omit<FfmpegSourceOptions, 'backoff'>> & { backoff: Required<NonNullable<FfmpegSourceOptions['backoff']>> };
  private readonly args: string[];
  private readonly log: Logger;
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
  private stderrWindow = { startedAt: 0, logged: 0, suppressed: 0 };

  constructor(options: FfmpegSourceOptions) {
    super();
    this.camera = assertCameraId(options.camera);
    this.opts = {
      camera: this.camera,
      input: options.input,
      output: options.output,
      ffmpegPath: options.ffmpegPath ?? 'ffmpeg',
      offlineAfterMs: options.offlineAfterMs ?? 10000,
      backoff: { initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 30000 },
      stableAfterMs: options.stableAfterMs ?? 30000,
      maxFrameBytes: options.maxFrameBytes ?? 10 * 1024 * 1024,
      logger: options.logger ?? silentLogger,
      now: options.now ?? Date.now,
    };
    // Built now so a bad output setting fails at configuration time, not on the first restart.
    this.args = buildFfmpegArgs(options.input, options.output);
    this.log = this.opts.logger;
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
    this.flushSuppressed();
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
    const { ffmpegPath } = this.opts;
    this.setState('connecting');
    this.log.debug({ camera: this.camera, args: this.args.map((arg) => this.redact(arg)) }, 'starting ffmpeg');
    const child = spawn(ffmpegPath, this.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    installExitHook();
    liveChildren.add(child);
    const splitter = new JpegSplitter({
      maxFrameBytes: this.opts.maxFrameBytes,
      onReject: (reason, bytes) => this.onReject(reason, bytes),
    });
    const startedAt = performance.now();
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const run: Run = {
      child, startedAt, lastProgressAt: startedAt, frames: 0, stderrTail: '', lastStderr: null, killedFor: null, killTimer: null, closed,
    };
    this.run = run;
    child.stdout?.on('data', (chunk: Buffer) => {
      // Frames still in the pipe of a run being killed would flip a stalled camera back to online.
      if (this.run !== run || run.killedFor !== null) return;
      for (const jpeg of splitter.push(chunk)) this.onFrame(run, jpeg);
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
      liveChildren.delete(child);
      if (run.killTimer) clearTimeout(run.killTimer);
      this.onRunEnd(run, code, signal);
    });
    this.armStallTimer(this.opts.offlineAfterMs);
  }

  private onFrame(run: Run, jpeg: Buffer): void {
    const size = jpegDimensions(jpeg);
    if (size === null) {
      this.onReject('corrupt', jpeg.length);
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
  }

  private onReject(reason: JpegRejectReason, bytes: number): void {
    metrics.framesRejectedTotal.inc({ camera: this.camera, reason });
    this.countError(reason === 'oversize' ? 'oversize' : 'decode');
    this.log.warn({ camera: this.camera, reason, bytes }, 'dropped a frame from ffmpeg');
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
      this.logStderr(line);
    }
  }

  /** At most a few stderr lines per window: a broken camera can print thousands a second. */
  private logStderr(line: string): void {
    const now = performance.now();
    const window = this.stderrWindow;
    if (now - window.startedAt >= STDERR_WINDOW_MS) {
      this.flushSuppressed();
      Object.assign(window, { startedAt: now, logged: 0 });
    }
    if (window.logged++ < STDERR_LINES_PER_WINDOW) this.log.warn({ camera: this.camera, line }, 'ffmpeg');
    else window.suppressed += 1;
  }

  private flushSuppressed(): void {
    const { suppressed } = this.stderrWindow;
    if (suppressed === 0) return;
    this.stderrWindow.suppressed = 0;
    this.log.warn({ camera: this.camera, suppressed }, `suppressed ${suppressed} more ffmpeg stderr lines`);
  }

  private onRunEnd(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.run !== run) return; // stopped, or already replaced
    this.run = null;
    clearTimeout(this.stallTimer);
    const ranMs = performance.now() - run.startedAt;
    const how = code !== null ? `exited with code ${code}` : `was killed by ${signal ?? 'a signal'}`;
    this.log.info({ camera: this.camera, code, signal, frames: run.frames, ranMs: Math.round(ranMs) }, `ffmpeg ${how}`);
    const { input } = this.opts;
    if (input.kind === 'file' && input.loop !== true && code === 0 && run.killedFor === null) {
      // A clip played once has nothing more to give; restarting would silently loop it.
      this.running = false;
      this.setState('stopped');
      return;
    }
    if (run.killedFor === null) {
      if (run.child.pid !== undefined) this.countError('exit');
      this.setLastError(run.lastStderr ?? `ffmpeg ${how}`);
    }
    this.setState('offline');
    if (ranMs >= this.opts.stableAfterMs) this.backoffMs = this.opts.backoff.initialMs;
    const delay = this.nextBackoff();
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.restarts += 1;
      metrics.captureRestartsTotal.inc({ camera: this.camera });
      this.spawnRun();
    }, delay);
  }

  /**
   * Decorrelated jitter (AWS architecture blog): never shorter than the initial delay, so a failing input
   * cannot restart in a tight loop, and spread out so many cameras behind one dead NVR do not retry in step.
   */
  private nextBackoff(): number {
    const { initialMs, maxMs } = this.opts.backoff;
    const delay = Math.min(maxMs, initialMs + Math.random() * (this.backoffMs * 3 - initialMs));
    this.backoffMs = Math.max(initialMs, delay);
    return delay;
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
  private terminate(run: Run, reason: 'stall' | 'stop'): void {
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

  private countError(kind: 'exit' | 'spawn' | 'stall' | 'decode' | 'oversize'): void {
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

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone: nothing left to stop.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  });
}
