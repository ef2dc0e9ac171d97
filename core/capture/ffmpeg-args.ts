import type { CaptureInput } from './input';

/** What capture delivers: JPEG frames at a fixed rate, optionally scaled. */
export interface CaptureOutput {
  fps: number;
  width?: number;
  height?: number;
  /** ffmpeg's MJPEG qscale, 2 (best) to 31 (smallest). */
  jpegQuality: number;
}

/** Socket timeout for network inputs, in microseconds: long enough for a slow camera, short enough to notice a dead one. */
const NETWORK_TIMEOUT_US = '10000000';

/**
 * The ffmpeg command line for one capture, as an argument array for spawn (never a shell string), so nothing
 * in a URL or file name can be read as shell syntax. Option names are those of ffmpeg 5.1 (Debian 12):
 * `-timeout` is the RTSP demuxer's socket timeout there (older releases called it `-stimeout`).
 */
export function buildFfmpegArgs(input: CaptureInput, output: CaptureOutput): string[] {
  checkOutput(output);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-fflags', '+genpts+discardcorrupt'];
  switch (input.kind) {
    case 'demo':
      // -re paces the generator to wall-clock time, as a live camera would be.
      args.push('-re', '-f', 'lavfi', '-i', `testsrc2=size=${input.width}x${input.height}:rate=${input.fps}`);
      break;
    case 'url':
      args.push(...networkOptions(input.url), '-i', input.url);
      break;
    case 'file':
      args.push('-re');
      if (input.loop === true) args.push('-stream_loop', '-1');
      // The explicit protocol keeps ffmpeg from reading any part of the name as another protocol.
      args.push('-i', `file:${input.path}`);
      break;
  }
  args.push('-an', '-vf', videoFilter(output));
  args.push('-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', String(output.jpegQuality), 'pipe:1');
  return args;
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
