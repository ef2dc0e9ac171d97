import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFfmpegArgs, GreyPlaneReader, greyPlaneSize, type GreyPlane } from '../../core/capture/ffmpeg-args';
import { DRI_RENDER_NODE, isHwDeviceFailure, NVIDIA_DEVICE, resolveHwAccel, type HwAccel } from '../../core/capture/hwaccel';
import type { FrameMeta } from '../../core/frames/frame';
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

  test('splits one decode into the JPEG on pipe:1 and a gray rawvideo plane on pipe:3', () => {
    const args = buildFfmpegArgs(RTSP, { ...OUTPUT, width: 640, height: 360 }, { grey: { height: 120 } });
    expect(args.filter((arg) => arg === '-i')).toHaveLength(1);
    const graph = args[args.indexOf('-filter_complex') + 1];
    expect(graph).toMatch(/^\[0:v:0\]fps=5,scale=640:360,split=2\[jpeg\]\[grey\];\[grey\]scale=w=.*:h=120:flags=area,format=gray\[plane\]$/);
    const tail = args.slice(args.indexOf('-filter_complex') + 2).join(' ');
    expect(tail).toBe(
      '-map [jpeg] -fps_mode passthrough -f image2pipe -c:v mjpeg -q:v 5 pipe:1 ' +
        '-map [plane] -fps_mode passthrough -f rawvideo -pix_fmt gray pipe:3',
    );
  });

  test('refuses a grey height outside 16 to 2160 rows, naming the field', () => {
    expect(() => buildFfmpegArgs(RTSP, OUTPUT, { grey: { height: 8 } })).toThrow(/grey\.height 8 is invalid/);
    expect(() => buildFfmpegArgs(RTSP, OUTPUT, { grey: { height: 120.5 } })).toThrow(/grey\.height 120\.5/);
  });

  // The raw plane has no header, so greyPlaneSize must predict ffmpeg's output size to the byte.
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
    expect((run.output[3] as Buffer).length).toBe(3 * plane.width * plane.height);
  });
});

describe('buildFfmpegArgs scaler choice', () => {
  test('an unscaled capture converts to JPEG range with the fast scaler, whose bytes are the same as the default one', () => {
    // Limited-range H.264, as cameras send: the JPEG encoder needs it converted to full range.
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-args-'));
    const clip = path.join(dir, 'clip.mp4');
    spawnSync(findTool('ffmpeg'), ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=5', '-t', '1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip]);
    const fast = buildFfmpegArgs({ kind: 'file', path: clip }, OUTPUT);
    expect(fast.slice(6, 8)).toEqual(['-sws_flags', 'fast_bilinear']);
    const slow = [...fast.slice(0, 6), ...fast.slice(8)];
    const jpegs = [fast, slow].map((args) => spawnSync(findTool('ffmpeg'), args.filter((arg) => arg !== '-re'), { timeout: 20000 }).stdout);
    rmSync(dir, { recursive: true, force: true });
    expect(jpegs[0].length).toBeGreaterThan(1000);
    expect(jpegs[0].equals(jpegs[1])).toBe(true);
  });

  test('a scaled capture leaves the scaler to its default, which a downscale needs for quality', () => {
    expect(buildFfmpegArgs(RTSP, { ...OUTPUT, width: 640 })).not.toContain('-sws_flags');
    expect(buildFfmpegArgs(RTSP, { ...OUTPUT, height: 360 }, { grey: { height: 120 } })).not.toContain('-sws_flags');
  });
});

describe('GreyPlaneReader', () => {
  const meta = (sequence: number): FrameMeta => ({ camera: 'cam', timestamp: 1000 + sequence, sequence, width: 8, height: 4, bytes: 100 });
  // An 8x4 JPEG gives a 16-row plane 32 wide: 512 bytes.
  const SIZE = { width: 8, height: 4 };
  const planeBytes = (fill: number): Buffer => Buffer.alloc(32 * 16, fill);

  function reader(): { reader: GreyPlaneReader; planes: GreyPlane[] } {
    const planes: GreyPlane[] = [];
    return { reader: new GreyPlaneReader(16, (plane) => planes.push(plane)), planes };
  }

  test('pairs planes with JPEGs by order whichever arrives first, across arbitrary chunk boundaries', () => {
    const { reader: r, planes } = reader();
    // Bytes before the first JPEG are held until its size says how long a plane is.
    r.push(planeBytes(1).subarray(0, 100));
    expect(r.fits(SIZE)).toBe(true);
    r.push(Buffer.concat([planeBytes(1).subarray(100), planeBytes(2), planeBytes(3).subarray(0, 7)]));
    expect(planes).toEqual([]);
    r.jpeg(meta(1));
    r.jpeg(meta(2));
    r.jpeg(meta(3));
    r.push(planeBytes(3).subarray(7));
    expect(planes.map((p) => [p.sequence, p.timestamp, p.width, p.height, p.data.length, p.data[0], p.data[511]])).toEqual([
      [1, 1001, 32, 16, 512, 1, 1],
      [2, 1002, 32, 16, 512, 2, 2],
      [3, 1003, 32, 16, 512, 3, 3],
    ]);
    // Each plane owns its memory: a listener may keep it while later planes arrive.
    expect(new Set(planes.map((p) => p.data.buffer)).size).toBe(3);
  });

  test('drops the plane of a dropped JPEG and keeps the rest in step', () => {
    const { reader: r, planes } = reader();
    r.fits(SIZE);
    r.jpeg(meta(1));
    r.jpeg(null);
    r.jpeg(meta(2));
    r.push(Buffer.concat([planeBytes(10), planeBytes(20), planeBytes(30)]));
    expect(planes.map((p) => [p.sequence, p.data[0]])).toEqual([
      [1, 10],
      [2, 30],
    ]);
  });

  test('accepts only JPEGs of the first size, since planes cannot be framed after a resize', () => {
    const { reader: r } = reader();
    expect(r.fits(SIZE)).toBe(true);
    expect(r.fits({ ...SIZE })).toBe(true);
    expect(r.fits({ width: 4, height: 4 })).toBe(false);
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
    expect(resolveHwAccel('vaapi', { exists })).toEqual({ args: [], warning: `hwaccel "vaapi" needs ${DRI_RENDER_NODE}, which does not exist: decoding in software` });
    expect(resolveHwAccel('qsv', { exists }).warning).toContain(DRI_RENDER_NODE);
    expect(resolveHwAccel('cuda', { exists })).toEqual({ args: [], warning: `hwaccel "cuda" needs ${NVIDIA_DEVICE}, which does not exist: decoding in software` });
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
