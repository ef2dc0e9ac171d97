import type { CaptureInput } from './input';

/** What capture delivers: JPEG frames at a fixed rate, optionally scaled. */
export interface CaptureOutput {
  fps: number;
  width?: number;
  height?: number;
  /** ffmpeg's MJPEG qscale, 2 (best) to 31 (smallest). */
  jpegQuality: number;
}

/**
 * A second output for motion detection: the luma plane of the decoded picture, scaled to `height` rows, at `fps`
 * planes per second (default: the JPEG rate). Written as PGM, so each plane states its own size.
 */
export interface GreyOutput {
  height: number;
  fps?: number;
}

export interface FfmpegArgsOptions {
  /** Input options for hardware decoding, from resolveHwAccel; ignored for the generated demo picture. */
  hwaccelArgs?: string[];
  grey?: GreyOutput;
  /**
   * With a grey output, whether the JPEG branch starts open (default) or closed. The branch is gated by a
   * `framestep` filter whose timeline is switched at run time (jpegGateCommand), so JPEGs are only encoded
   * while someone wants them; the decode and the grey planes go on either way.
   */
  jpegOpen?: boolean;
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
  const args = ['-hide_banner', '-loglevel', 'warning', '-fflags', '+genpts+discardcorrupt'];
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
  if (options.grey === undefined) return ['-nostdin', ...args, '-an', '-vf', videoFilter(output), ...jpeg];
  // One decode split in two. The JPEG branch is gated after its fps filter (so a closed gate costs nothing
  // downstream: no colour conversion, no scaling, no encoding) and converts to JPEG's full range itself, after
  // the gate: left to ffmpeg, the conversion would be inserted before the split and run on every decoded frame.
  const { height } = options.grey;
  const greyFps = options.grey.fps ?? output.fps;
  const enable = options.jpegOpen === false ? 1 : 0;
  const graph = [
    '[0:v:0]split=2[decoded_jpeg][decoded_grey]',
    `[decoded_jpeg]fps=${output.fps},${JPEG_GATE}=step=${GATE_STEP}:enable=${enable},${jpegScale(output)},format=yuvj420p|yuvj422p|yuvj444p[jpeg]`,
    `[decoded_grey]fps=${greyFps},scale=w=${greyWidthExpression(height)}:h=${height}:flags=area,format=gray[plane]`,
  ].join(';');
  // stdin stays open: the gate is switched with ffmpeg's interactive filter command (see jpegGateCommand).
  // The gate's framestep divides the link's nominal frame rate, which would become the encoder's time base and
  // round every timestamp to 0; the encoder gets a millisecond time base instead (JPEGs carry no timestamps).
  return [
    ...args,
    '-filter_complex',
    graph,
    '-map',
    '[jpeg]',
    '-fps_mode',
    'passthrough',
    '-enc_time_base',
    '1:1000',
    ...jpeg,
    '-map',
    '[plane]',
    '-fps_mode',
    'passthrough',
    '-c:v',
    'pgm',
    '-f',
    'image2pipe',
    `pipe:${GREY_PIPE_FD}`,
  ];
}

/** The JPEG gate's filter instance, which the interactive command addresses by name. */
const JPEG_GATE = 'framestep@jpeg_gate';
/** Enabled, framestep passes one frame in this many: at 60 fps that is one frame in over a year. */
const GATE_STEP = 2147483647;

/**
 * What to write to ffmpeg's stdin to open or close the JPEG gate: `c` starts an interactive filter command
 * (ffmpeg reads its keyboard commands from stdin even when it is a pipe, every 100 ms), then
 * `<target> <time> <command> <argument>`. `enable` is the generic timeline command: enabled, framestep drops
 * the frames; disabled, they pass through untouched.
 */
export function jpegGateCommand(open: boolean): string {
  return `c${JPEG_GATE} -1 enable ${open ? 0 : 1}\n`;
}

/** The JPEG branch's scaler: to the output size if one is set, and always to full range for the JPEG encoder. */
function jpegScale(output: CaptureOutput): string {
  const { width, height } = output;
  // Unscaled, it only converts the range; at 1:1 every algorithm gives the same bytes and the fast one costs least.
  if (width === undefined && height === undefined) return 'scale=out_range=full:flags=fast_bilinear';
  // -2 keeps the aspect ratio with an even size, which the 4:2:0 JPEG encoder needs.
  return `scale=${width ?? -2}:${height ?? -2}:out_range=full`;
}

/**
 * The grey plane's width keeps the picture's aspect ratio, rounded to an even number. It is written out as an
 * expression rather than ffmpeg's `-2` so that it computes the very same number as greyPlaneSize (core/frames/grey.ts)
 * for a JPEG, and a camera's planes have one size whether ffmpeg or jpegToGrey (snapshot, website and edge cameras) made them.
 */
function greyWidthExpression(height: number): string {
  // Quoted, because the comma would otherwise end the filter.
  return `'max(2,2*trunc(iw*${height}/ih/2+0.5))'`;
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
  if (grey.fps !== undefined && (!Number.isFinite(grey.fps) || grey.fps <= 0 || grey.fps > 60)) {
    throw new Error(`grey.fps ${grey.fps} is invalid: expected planes per second above 0 and at most 60`);
  }
}

function checkOutput(output: CaptureOutput): void {
  if (!Number.isFinite(output.fps) || output.fps <= 0 || output.fps > 60) {
    throw new Error(`output.fps ${output.fps} is invalid: expected frames per second above 0 and at most 60`);
  }
  if (!Number.isInteger(output.jpegQuality) || output.jpegQuality < 2 || output.jpegQuality > 31) {
    throw new Error(`output.jpegQuality ${output.jpegQuality} is invalid: expected a whole number from 2 (best) to 31`);
  }
  for (const [field, value] of [
    ['width', output.width],
    ['height', output.height],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 16 || value > 7680)) {
      throw new Error(`output.${field} ${value} is invalid: expected a whole number of pixels from 16 to 7680`);
    }
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
