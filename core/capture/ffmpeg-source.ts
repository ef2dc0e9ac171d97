import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Frame } from '../frames/frame';
import { GREY_HEIGHT, type GreyPlane } from '../frames/grey';
import { JpegSplitter, jpegDimensions, type JpegRejectReason } from '../frames/jpeg';
import { PgmSplitter } from '../frames/pgm';
import { assertCameraId } from '../ids';
import { silentLogger, type Logger } from '../log/logger';
import { WindowRateLimiter } from '../log/rate-limit';
import { metrics } from '../metrics';
import { CameraStateTracker } from './camera-state';
import { killWithNode, nextBackoffMs, signalGroup } from './child-process';
import { buildFfmpegArgs, GREY_PIPE_FD, jpegGateCommand, type CaptureOutput, type GreyOutput } from './ffmpeg-args';
import { isHwDeviceFailure, resolveHwAccel, type HwAccel } from './hwaccel';
import { redactText, type CaptureInput } from './input';
import type { CameraStatus, FrameSource } from './source';

export interface FfmpegSourceOptions {
  camera: string;
  input: CaptureInput;
  output: CaptureOutput;
  /**
   * The `grey` events from the same decode: luma planes of this height at this rate (default: GREY_HEIGHT rows
   * at the JPEG rate). They are always made: they are cheap, motion detection reads them, and they show the
   * camera is alive while no JPEGs are wanted (setJpegDemand).
   */
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
  pictures: number;
  /**
   * The JPEG gate as this ffmpeg has it: as spawned, then as last commanded; when, and when the last JPEG came;
   * and whether it was ever open in this run (spawned open, or commanded open).
   */
  gate: { open: boolean; sentAt: number; lastFrameAt: number; everOpen: boolean };
  grey: PgmSplitter;
  killedFor: 'stall' | 'stop' | 'fault' | null;
  killTimer: NodeJS.Timeout | null;
  closed: Promise<void>;
}

const KILL_GRACE_MS = 2000;
/** A JPEG gate command whose effect has not shown after this long (or three frame intervals) is sent again. */
const GATE_RETRY_MS = 1500;
/**
 * Expected stderr lines, not faults: ffmpeg 5 warns about JPEG's pixel formats when it converts to them, and it
 * answers every interactive command (the JPEG gate) with a prompt and a reply.
 */
const BENIGN_STDERR = [
  /deprecated pixel format used/,
  /^\s*Last message repeated \d+ times?$/,
  /^Enter command: /,
  /^Command reply for stream \d+: ret:0 res:/,
];

/** A camera read by an ffmpeg child process that is kept alive: restarted with backoff on exit or stall. */
export class FfmpegSource extends EventEmitter implements FrameSource {
  readonly camera: string;
  private readonly opts: Required<
    Pick<FfmpegSourceOptions, 'input' | 'output' | 'ffmpegPath' | 'offlineAfterMs' | 'stableAfterMs' | 'maxFrameBytes' | 'now'>
  > & {
    backoff: { initialMs: number; maxMs: number };
    grey: GreyOutput;
  };
  private hwaccelArgs: string[];
  private jpegWanted = true;
  private planeSequence = 0;
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
      grey: grey ?? { height: GREY_HEIGHT },
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
    this.hwaccelArgs = hwaccel.args;
    // Built now so a bad output setting fails at configuration time, not on the first restart.
    this.buildArgs();
    if (hwaccel.warning !== null) this.fallBackToSoftware(hwaccel.warning);
  }

  private buildArgs(): string[] {
    const { input, output, grey } = this.opts;
    return buildFfmpegArgs(input, output, { grey, hwaccelArgs: this.hwaccelArgs, jpegOpen: this.jpegWanted });
  }

  /**
   * Whether anyone wants JPEGs now. Without demand the decode and the grey planes go on, but no JPEG is encoded,
   * which is most of what capture costs beyond decoding (docs/benchmarks.md). A change reaches a running ffmpeg
   * within about 100 ms; a restarted one starts in the state last asked for. JPEGs are wanted from the start.
   */
  setJpegDemand(wanted: boolean): void {
    if (wanted === this.jpegWanted) return;
    this.jpegWanted = wanted;
    metrics.cameraJpegDemand.set({ camera: this.camera }, wanted ? 1 : 0);
    if (this.run !== null) this.syncGate(this.run, false);
  }

  /**
   * Brings the running ffmpeg's gate to the wanted state. ffmpeg builds its filter graph on the first decoded
   * picture and drops commands that come before it, and rebuilds the graph (with the gate as spawned) when the
   * picture size changes; so nothing is sent before the first plane, and a command whose effect does not show
   * (JPEGs that keep coming, or do not come) is sent again.
   */
  private syncGate(run: Run, check: boolean): void {
    if (run.killedFor !== null || run.pictures === 0) return;
    const now = performance.now();
    const { gate } = run;
    const frameMs = 1000 / this.opts.output.fps;
    let send = gate.open !== this.jpegWanted;
    if (!send && check && now - gate.sentAt > Math.max(GATE_RETRY_MS, 3 * frameMs)) {
      send = this.jpegWanted ? now - gate.lastFrameAt > Math.max(GATE_RETRY_MS, 3 * frameMs) : gate.lastFrameAt > gate.sentAt + GATE_RETRY_MS;
      if (send) this.log.debug({ camera: this.camera, open: this.jpegWanted }, 'the JPEG gate did not follow its command: sending it again');
    }
    if (!send) return;
    gate.open = this.jpegWanted;
    gate.everOpen ||= this.jpegWanted;
    gate.sentAt = now;
    run.child.stdin?.write(jpegGateCommand(this.jpegWanted));
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
    this.planeSequence = 0;
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
    const { ffmpegPath } = this.opts;
    const args = this.buildArgs();
    this.tracker.setState('connecting');
    this.log.debug({ camera: this.camera, args: args.map((arg) => this.redact(arg)) }, 'starting ffmpeg');
    // stdin carries the JPEG gate's commands; fd 3 the grey planes.
    const stdio: StdioOptions = ['pipe', 'pipe', 'pipe', 'pipe'];
    const child = spawn(ffmpegPath, args, { stdio, detached: true });
    killWithNode(child);
    // ffmpeg gone: a late gate command has nowhere to go, and that is fine.
    child.stdin?.on('error', () => undefined);
    const splitter = new JpegSplitter({
      maxFrameBytes: this.opts.maxFrameBytes,
      onReject: (reason, bytes) => this.onReject(reason, bytes),
    });
    const startedAt = performance.now();
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const run: Run = {
      child,
      startedAt,
      lastProgressAt: startedAt,
      frames: 0,
      pictures: 0,
      gate: { open: this.jpegWanted, sentAt: startedAt, lastFrameAt: startedAt, everOpen: this.jpegWanted },
      stderrTail: '',
      lastStderr: null,
      grey: new PgmSplitter(),
      killedFor: null,
      killTimer: null,
      closed,
    };
    this.run = run;
    // Bytes still in the pipes of a run being killed would flip a stalled camera back to online.
    const live = (): boolean => this.run === run && run.killedFor === null;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (live()) for (const jpeg of splitter.push(chunk)) this.onFrame(run, jpeg);
    });
    child.stdio[GREY_PIPE_FD]?.on('data', (chunk: Buffer) => {
      if (live()) this.onGreyChunk(run, chunk);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.onStderr(run, text));
    child.on('error', (err: NodeJS.ErrnoException) => {
      run.lastStderr =
        err.code === 'ENOENT'
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
      this.onReject('corrupt', jpeg.length);
      return;
    }
    // A gate spawned closed sometimes lets the run's very first picture through (framestep passes its frame 0 now
    // and then): nobody asked for it, and it would show a moment nobody wanted a JPEG of (a motion event's picture).
    if (!run.gate.everOpen) {
      this.log.debug({ camera: this.camera }, 'dropped a JPEG the closed gate let through');
      return;
    }
    run.lastProgressAt = run.gate.lastFrameAt = performance.now();
    run.frames += 1;
    this.sequence += 1;
    const frame: Frame = {
      jpeg,
      meta: { camera: this.camera, timestamp: this.opts.now(), sequence: this.sequence, ...size, bytes: jpeg.length },
    };
    this.tracker.frameDelivered(frame);
    this.emit('frame', frame);
  }

  /** Grey planes are the camera's heartbeat: they keep coming while no JPEG is wanted. */
  private onGreyChunk(run: Run, chunk: Buffer): void {
    let planes;
    try {
      planes = run.grey.push(chunk);
    } catch (err) {
      // The pipe lost its framing: nothing after this can be trusted, so this run ends and a new one starts.
      this.tracker.countError('decode');
      this.tracker.setLastError((err as Error).message);
      this.terminate(run, 'fault');
      return;
    }
    for (const { width, height, data } of planes) {
      run.lastProgressAt = performance.now();
      run.pictures += 1;
      this.planeSequence += 1;
      const timestamp = this.opts.now();
      this.tracker.pictureSeen(timestamp);
      const plane: GreyPlane = { camera: this.camera, sequence: this.planeSequence, timestamp, width, height, data };
      this.emit('grey', plane);
    }
    if (planes.length > 0) this.syncGate(run, true);
  }

  private onReject(reason: JpegRejectReason, bytes: number): void {
    metrics.framesRejectedTotal.inc({ camera: this.camera, reason });
    this.tracker.countError(reason === 'oversize' ? 'oversize' : 'decode');
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
    const { input } = this.opts;
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
    if (this.hwaccelArgs.length > 0 && run.frames + run.pictures === 0 && isHwDeviceFailure(run.lastStderr ?? '')) {
      this.hwaccelArgs = [];
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
    this.stallTimer = setTimeout(
      () => {
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
      },
      Math.max(1, delay),
    );
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
