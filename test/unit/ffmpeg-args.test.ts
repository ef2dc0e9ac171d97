import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFfmpegArgs, jpegGateCommand } from '../../core/capture/ffmpeg-args';
import { greyPlaneSize } from '../../core/frames/grey';
import { PgmSplitter } from '../../core/frames/pgm';
import { DRI_RENDER_NODE, isHwDeviceFailure, NVIDIA_DEVICE, resolveHwAccel, type HwAccel } from '../../core/capture/hwaccel';
import { findTool } from '../support/tools';

const OUTPUT = { fps: 5, jpegQuality: 5 };
const RTSP = { kind: 'url', url: 'rtsp://cam.local/s' } as const;

describe('buildFfmpegArgs with a grey plane', () => {
  test('without one, the command is the plain JPEG pipe it always was', () => {
    const args = buildFfmpegArgs(RTSP, { ...OUTPUT, width: 640, height: 360 });
    expect(args.slice(-10)).toEqual(['-an', '-vf', 'fps=5,scale=640:360', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '5', 'pipe:1']);
    expect(args).not.toContain('-filter_complex');
    expect(args.join(' ')).not.toContain('pipe:3');
  });

  test('splits one decode into a gated JPEG branch on pipe:1 and PGM grey planes on pipe:3, stdin open for the gate', () => {
    const args = buildFfmpegArgs(RTSP, { ...OUTPUT, width: 640, height: 360 }, { grey: { height: 120, fps: 2 } });
    expect(args.filter((arg) => arg === '-i')).toHaveLength(1);
    expect(args).not.toContain('-nostdin');
    const graph = args[args.indexOf('-filter_complex') + 1].split(';');
    expect(graph).toEqual([
      '[0:v:0]split=2[decoded_jpeg][decoded_grey]',
      // Gated right after the rate filter, so a closed gate saves the scaling, the range conversion and the encoding.
      '[decoded_jpeg]fps=5,framestep@jpeg_gate=step=2147483647:enable=0,scale=640:360:out_range=full,format=yuvj420p|yuvj422p|yuvj444p[jpeg]',
      expect.stringMatching(/^\[decoded_grey\]fps=2,scale=w=.*:h=120:flags=area,format=gray\[plane\]$/),
    ]);
    const tail = args.slice(args.indexOf('-filter_complex') + 2).join(' ');
    expect(tail).toBe(
      '-map [jpeg] -fps_mode passthrough -enc_time_base 1:1000 -f image2pipe -c:v mjpeg -q:v 5 pipe:1 ' +
        '-map [plane] -fps_mode passthrough -c:v pgm -f image2pipe pipe:3',
    );
  });

  test('starts with the JPEG gate closed when asked, and the command switching it names the gate', () => {
    const graph = (open: boolean): string => {
      const args = buildFfmpegArgs(RTSP, OUTPUT, { grey: { height: 120 }, jpegOpen: open });
      return args[args.indexOf('-filter_complex') + 1];
    };
    expect(graph(false)).toContain('framestep@jpeg_gate=step=2147483647:enable=1,scale=out_range=full:flags=fast_bilinear,');
    expect(graph(true)).toContain('framestep@jpeg_gate=step=2147483647:enable=0,');
    // The grey branch follows the JPEG rate unless told otherwise.
    expect(graph(true)).toMatch(/\[decoded_grey\]fps=5,/);
    expect(jpegGateCommand(true)).toBe('cframestep@jpeg_gate -1 enable 0\n');
    expect(jpegGateCommand(false)).toBe('cframestep@jpeg_gate -1 enable 1\n');
  });

  test('refuses a grey height outside 16 to 2160 rows, naming the field', () => {
    expect(() => buildFfmpegArgs(RTSP, OUTPUT, { grey: { height: 8 } })).toThrow(/grey\.height 8 is invalid/);
    expect(() => buildFfmpegArgs(RTSP, OUTPUT, { grey: { height: 120.5 } })).toThrow(/grey\.height 120\.5/);
    expect(() => buildFfmpegArgs(RTSP, OUTPUT, { grey: { height: 120, fps: 0 } })).toThrow(/grey\.fps 0 is invalid/);
  });

  // jpegToGrey (cameras without a decode of their own) sizes its planes with greyPlaneSize: ffmpeg's must agree.
  test.each([
    [1280, 720],
    [640, 480],
    [333, 217],
    [720, 576],
    [16, 1000],
  ])('the plane ffmpeg writes for a %ix%i picture is exactly greyPlaneSize', (width, height) => {
    const args = buildFfmpegArgs({ kind: 'demo', width, height, fps: 5 }, OUTPUT, { grey: { height: 120 } });
    // Three frames of the generator rather than an endless one, and without -re's real-time pacing.
    const input = args.indexOf('-i') + 1;
    args[input] = args[input].replace(/:rate=(\d+)\[/g, ':rate=$1:duration=0.6[');
    args.splice(args.indexOf('-re'), 1);
    const run = spawnSync(findTool('ffmpeg'), args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], timeout: 20000 });
    expect(run.status).toBe(0);
    const plane = greyPlaneSize({ width, height }, 120);
    expect(plane.width % 2).toBe(0);
    const planes = new PgmSplitter().push(run.output[3] as Buffer);
    expect(planes.map((p) => [p.width, p.height, p.data.length])).toEqual(Array(3).fill([plane.width, plane.height, plane.width * plane.height]));
  });
});

describe('buildFfmpegArgs scaler choice', () => {
  test('an unscaled capture converts to JPEG range with the fast scaler, whose bytes are the same as the default one', () => {
    // Limited-range H.264, as cameras send: the JPEG encoder needs it converted to full range.
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-args-'));
    const clip = path.join(dir, 'clip.mp4');
    spawnSync(findTool('ffmpeg'), [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=5',
      '-t',
      '1',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      clip,
    ]);
    const fast = buildFfmpegArgs({ kind: 'file', path: clip }, OUTPUT);
    expect(fast.slice(6, 8)).toEqual(['-sws_flags', 'fast_bilinear']);
    const slow = [...fast.slice(0, 6), ...fast.slice(8)];
    const jpegs = [fast, slow].map(
      (args) =>
        spawnSync(
          findTool('ffmpeg'),
          args.filter((arg) => arg !== '-re'),
          { timeout: 20000 },
        ).stdout,
    );
    rmSync(dir, { recursive: true, force: true });
    expect(jpegs[0].length).toBeGreaterThan(1000);
    expect(jpegs[0].equals(jpegs[1])).toBe(true);
  });

  test('a scaled capture leaves the scaler to its default, which a downscale needs for quality', () => {
    expect(buildFfmpegArgs(RTSP, { ...OUTPUT, width: 640 })).not.toContain('-sws_flags');
    const args = buildFfmpegArgs(RTSP, { ...OUTPUT, height: 360 }, { grey: { height: 120 } });
    expect(args).not.toContain('-sws_flags');
    expect(args[args.indexOf('-filter_complex') + 1]).toContain(',scale=-2:360:out_range=full,');
  });
});

describe('resolveHwAccel', () => {
  const none = (): boolean => false;
  const all = (): boolean => true;

  test('software and auto need no device', () => {
    expect(resolveHwAccel('none', { exists: none })).toEqual({ args: [], warning: null });
    expect(resolveHwAccel('auto', { exists: none })).toEqual({ args: ['-hwaccel', 'auto'], warning: null });
  });

  test('a device preset whose device node exists decodes there, leaving frames in system memory', () => {
    const vaapi = ['-hwaccel', 'vaapi', '-hwaccel_device', DRI_RENDER_NODE];
    expect(resolveHwAccel('vaapi', { exists: all })).toEqual({ args: vaapi, warning: null });
    expect(resolveHwAccel('qsv', { exists: all })).toEqual({ args: vaapi, warning: null });
    expect(resolveHwAccel('cuda', { exists: all })).toEqual({ args: ['-hwaccel', 'cuda', '-hwaccel_device', '0'], warning: null });
    for (const wanted of ['vaapi', 'qsv', 'cuda'] as const) {
      // An output format would keep frames on the GPU, where the software fps, scale and JPEG filters cannot reach them.
      expect(resolveHwAccel(wanted, { exists: all }).args).not.toContain('-hwaccel_output_format');
    }
  });

  test('a missing device node falls back to software with a warning naming the device', () => {
    const asked: string[] = [];
    const exists = (path: string): boolean => {
      asked.push(path);
      return false;
    };
    expect(resolveHwAccel('vaapi', { exists })).toEqual({
      args: [],
      warning: `hwaccel "vaapi" needs ${DRI_RENDER_NODE}, which does not exist: decoding in software`,
    });
    expect(resolveHwAccel('qsv', { exists }).warning).toContain(DRI_RENDER_NODE);
    expect(resolveHwAccel('cuda', { exists })).toEqual({
      args: [],
      warning: `hwaccel "cuda" needs ${NVIDIA_DEVICE}, which does not exist: decoding in software`,
    });
    expect(asked).toEqual([DRI_RENDER_NODE, DRI_RENDER_NODE, NVIDIA_DEVICE]);
  });

  test('an unknown preset is refused with the list of valid ones', () => {
    expect(() => resolveHwAccel('nvenc' as HwAccel)).toThrow('hwaccel "nvenc" is invalid: expected one of none, auto, vaapi, qsv, cuda');
  });

  test('the preset goes right before -i for streams and files, and is left out for the generated demo picture', () => {
    const hwaccelArgs = resolveHwAccel('vaapi', { exists: all }).args;
    const rtsp = buildFfmpegArgs(RTSP, OUTPUT, { hwaccelArgs });
    expect(rtsp.join(' ')).toContain(`-timeout 10000000 -hwaccel vaapi -hwaccel_device ${DRI_RENDER_NODE} -i rtsp://cam.local/s`);
    const file = buildFfmpegArgs({ kind: 'file', path: '/media/a.mp4', loop: true }, OUTPUT, { hwaccelArgs });
    expect(file.join(' ')).toContain(`-stream_loop -1 -hwaccel vaapi -hwaccel_device ${DRI_RENDER_NODE} -i file:/media/a.mp4`);
    expect(buildFfmpegArgs({ kind: 'demo', width: 64, height: 48, fps: 1 }, OUTPUT, { hwaccelArgs })).not.toContain('-hwaccel');
  });

  test("recognises ffmpeg's words for a device that exists but cannot decode", () => {
    expect(isHwDeviceFailure('Device setup failed for decoder on input stream #0:0 : Invalid argument')).toBe(true);
    expect(isHwDeviceFailure('[AVHWDeviceContext @ 0x5642] No VA display found for device /dev/dri/renderD128.')).toBe(true);
    expect(isHwDeviceFailure('rtsp://cam/s: Connection refused')).toBe(false);
  });
});
