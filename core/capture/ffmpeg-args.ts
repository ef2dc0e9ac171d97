import type { FrameMeta } from '../frames/frame';
import type { CaptureInput } from './input';

/** What capture delivers: JPEG frames at a fixed rate, optionally scaled. */
export interface CaptureOutput {
  fps: number;
  width?: number;
  height?: number;
  /** ffmpeg's MJPEG qscale, 2 (best) to 31 (smallest). */
  jpegQuality: number;
}

/** A second output for motion detection: the luma plane of every JPEG, scaled to `height` rows. */
export interface GreyOutput {
  height: number;
}

export interface FfmpegArgsOptions {
  /** Input options for hardware decoding, from resolveHwAccel; ignored for the generated demo picture. */
  hwaccelArgs?: string[];
  grey?: GreyOutput;
}

/** The file descriptor the grey planes are written to: stdin, stdout and stderr take 0 to 2. */
export const GREY_PIPE_FD = 3;

/** Socket timeout for network inputs, in microseconds: long enough for a slow camera, short enough to notice a dead one. */
const NETWORK_TIMEOUT_US = '10000000';

/**
 * The ffmpeg command line for one capture, as an argument array for spawn (never a shell string), so nothing
 * in a URL or file name can be read as shell syntax. Option names are those of ffmpeg 5.1 (Debian 12):
 * `-timeout` is the RTSP demuxer's socket timeout there (older releases called it `-stimeout`).
 */
export function buildFfmpegArgs(input: CaptureInput, output: CaptureOutput, options: FfmpegArgsOptions = {}): string[] {
  checkOutput(output);
  if (options.grey !== undefined) checkGrey(options.grey);
  const hwaccel = options.hwaccelArgs ?? [];
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-fflags', '+genpts+discardcorrupt'];
  // Unscaled, the only scaler is the one ffmpeg inserts to turn video's limited range into JPEG's full range.
  // At 1:1 every scaler algorithm gives the same bytes, and the fast one costs about a tenth of the default's CPU.
  if (output.width === undefined && output.height === undefined) args.push('-sws_flags', 'fast_bilinear');
  switch (input.kind) {
    case 'demo':
      // -re paces the generator to wall-clock time, as a live camera would be.
      args.push('-re', '-f', 'lavfi', '-i', demoPattern(input.width, input.height, input.fps));
      break;
    case 'url':
      args.push(...networkOptions(input.url), ...hwaccel, '-i', input.url);
      break;
    case 'file':
      args.push('-re');
      if (input.loop === true) args.push('-stream_loop', '-1');
      // The explicit protocol keeps ffmpeg from reading any part of the name as another protocol.
      args.push(...hwaccel, '-i', `file:${input.path}`);
      break;
  }
  const jpeg = ['-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', String(output.jpegQuality), 'pipe:1'];
  if (options.grey === undefined) return [...args, '-an', '-vf', videoFilter(output), ...jpeg];
  // One decode split in two, so the grey plane is the very picture its JPEG shows. Passthrough keeps ffmpeg
  // from duplicating or dropping frames on one output only, which would break pairing them by order.
  const { height } = options.grey;
  const graph = `[0:v:0]${videoFilter(output)},split=2[jpeg][grey];[grey]scale=w=${greyWidthExpression(height)}:h=${height}:flags=area,format=gray[plane]`;
  return [
    ...args, '-filter_complex', graph,
    '-map', '[jpeg]', '-fps_mode', 'passthrough', ...jpeg,
    '-map', '[plane]', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', `pipe:${GREY_PIPE_FD}`,
  ];
}

/**
 * The grey plane's width keeps the JPEG's aspect ratio, rounded to an even number. It is written out as
 * an expression rather than ffmpeg's `-2` so that greyPlaneSize can compute the very same number from a JPEG's
 * size: the raw plane carries no header, and reading it needs its exact byte count.
 */
function greyWidthExpression(height: number): string {
  // Quoted, because the comma would otherwise end the filter.
  return `'max(2,2*trunc(iw*${height}/ih/2+0.5))'`;
}

/** The size of the grey plane ffmpeg makes from a JPEG of the given size; the same arithmetic as greyWidthExpression. */
export function greyPlaneSize(jpeg: { width: number; height: number }, height: number): { width: number; height: number } {
  return { width: Math.max(2, 2 * Math.trunc((jpeg.width * height) / jpeg.height / 2 + 0.5)), height };
}

function networkOptions(url: string): string[] {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme === 'rtsp' || scheme === 'rtsps') {
    // TCP survives NAT and lossy Wi-Fi where UDP RTP drops packets and smears frames.
    return ['-rtsp_transport', 'tcp', '-timeout', NETWORK_TIMEOUT_US];
  }
  if (scheme === 'http' || scheme === 'https') {
    return ['-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '5', '-rw_timeout', NETWORK_TIMEOUT_US];
  }
  throw new Error(`input.url scheme "${scheme}" is not supported: expected rtsp, rtsps, http or https`);
}

function videoFilter(output: CaptureOutput): string {
  const { width, height } = output;
  if (width === undefined && height === undefined) return `fps=${output.fps}`;
  // -2 keeps the aspect ratio with an even size, which the 4:2:0 JPEG encoder needs.
  return `fps=${output.fps},scale=${width ?? -2}:${height ?? -2}`;
}

function checkGrey(grey: GreyOutput): void {
  if (!Number.isInteger(grey.height) || grey.height < 16 || grey.height > 2160) {
    throw new Error(`grey.height ${grey.height} is invalid: expected a whole number of rows from 16 to 2160`);
  }
}

function checkOutput(output: CaptureOutput): void {
  if (!Number.isFinite(output.fps) || output.fps <= 0 || output.fps > 60) {
    throw new Error(`output.fps ${output.fps} is invalid: expected frames per second above 0 and at most 60`);
  }
  if (!Number.isInteger(output.jpegQuality) || output.jpegQuality < 2 || output.jpegQuality > 31) {
    throw new Error(`output.jpegQuality ${output.jpegQuality} is invalid: expected a whole number from 2 (best) to 31`);
  }
  for (const [field, value] of [['width', output.width], ['height', output.height]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 16 || value > 7680)) {
      throw new Error(`output.${field} ${value} is invalid: expected a whole number of pixels from 16 to 7680`);
    }
  }
}

/**
 * A frame's luma (Y) plane for motion detection: `width * height` bytes, row by row, with the sequence and
 * timestamp of the JPEG decoded from the same picture, and emitted just after it. Each plane has its own memory.
 */
export interface GreyPlane {
  camera: string;
  sequence: number;
  timestamp: number;
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Reads the grey output of one ffmpeg run, beside the command line that asks for it because the two must agree
 * on the byte layout: raw planes have no header, so their size follows from the first JPEG's (greyPlaneSize).
 * Each plane is filled straight from the pipe's chunks into memory of exactly its size (no growing or joined
 * buffers), and paired with its JPEG by order, whichever pipe delivers first.
 */
export class GreyPlaneReader {
  private jpegSize: { width: number; height: number } | null = null;
  private width = 0;
  /** Bytes from before the first JPEG; ffmpeg writes each JPEG before its plane, so at most a plane or two. */
  private early: Buffer[] = [];
  private plane: Uint8Array | null = null;
  private filled = 0;
  /** JPEGs waiting for their plane (null: a dropped JPEG, whose plane is dropped too), and planes waiting for their JPEG. */
  private readonly frames: (FrameMeta | null)[] = [];
  private readonly planes: Uint8Array[] = [];

  constructor(
    private readonly height: number,
    private readonly emit: (plane: GreyPlane) => void,
  ) {}

  /** Whether planes can be read for a JPEG of this size: the first JPEG fixes it, and no other size can follow. */
  fits(size: { width: number; height: number }): boolean {
    if (this.jpegSize !== null) return size.width === this.jpegSize.width && size.height === this.jpegSize.height;
    this.jpegSize = size;
    this.width = greyPlaneSize(size, this.height).width;
    for (const chunk of this.early.splice(0)) this.push(chunk);
    return true;
  }

  /** The next JPEG in ffmpeg's order: delivered with this meta, or dropped (null). */
  jpeg(meta: FrameMeta | null): void {
    const plane = this.planes.shift();
    if (plane === undefined) this.frames.push(meta);
    else if (meta !== null) this.deliver(meta, plane);
  }

  push(chunk: Buffer): void {
    if (this.jpegSize === null) {
      this.early.push(chunk);
      return;
    }
    const bytes = this.width * this.height;
    for (let at = 0; at < chunk.length; ) {
      const plane = (this.plane ??= new Uint8Array(bytes));
      const n = Math.min(chunk.length - at, bytes - this.filled);
      plane.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled < bytes) continue;
      this.plane = null;
      this.filled = 0;
      if (this.frames.length === 0) this.planes.push(plane);
      else {
        const meta = this.frames.shift();
        if (meta) this.deliver(meta, plane);
      }
    }
  }

  private deliver(meta: FrameMeta, data: Uint8Array): void {
    const { camera, sequence, timestamp } = meta;
    this.emit({ camera, sequence, timestamp, width: this.width, height: this.height, data });
  }
}

/**
 * The demo camera: a static test card (textured, so it is never taken for a covered camera) with a box that crosses
 * it during the first 8 s of every 30 s, so motion detection has real motion periods and real quiet ones.
 */
export function demoPattern(width: number, height: number, fps: number): string {
  const box = Math.max(8, Math.round(Math.min(width, height) / 4));
  const x = "'if(lt(mod(t\\,30)\\,8)\\,mod(t\\,30)/8*(W-w)\\,W)'";
  return `smptehdbars=size=${width}x${height}:rate=${fps}[card];color=c=0xff8800:size=${box}x${box}:rate=${fps}[box];[card][box]overlay=x=${x}:y=(H-h)/2:eval=frame`;
}
