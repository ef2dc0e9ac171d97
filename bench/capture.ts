/**
 * What capture costs on top of decoding: N cameras captured by Glimpser against N plain `ffmpeg -f null` decodes
 * of the same clip, measured in the same run on the same machine. Glimpser runs the real path: a Camera over an
 * FfmpegSource (one decode, a gated JPEG branch, PGM grey planes read and framed in this process), in the ways a
 * camera is used:
 *
 * - grey planes only: what a motion node reading the camera directly gets while nothing moves (5 planes/s, no JPEG);
 * - + a JPEG every 2 s: the same, plus a capture node taking a snapshot every 2 s (one JPEG per request);
 * - every JPEG: a capture node or live view taking every JPEG (5/s), plus the grey planes.
 *
 * Motion detection on the planes is analysis, not capture, and is measured by bench/motion; one extra row at the
 * middle stream count runs VideoMotionDetector on every plane, to show it in context.
 *
 *   npm run build && node dist/bench/capture.js [--seconds 8] [--rounds 2] [--streams 1,4,8,16]
 *
 * CPU is user+system time: /proc/<pid>/stat for the ffmpeg processes, process.cpuUsage() for this one. Each figure
 * is the lowest of `rounds` interleaved rounds, so other work on the machine only ever raises a round.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Camera } from '../core/capture/camera';
import type { CaptureOutput } from '../core/capture/ffmpeg-args';
import { FfmpegSource } from '../core/capture/ffmpeg-source';
import { FrameSampler } from '../core/capture/sampler';
import { silentLogger } from '../core/log/logger';
import { VideoMotionDetector } from '../core/motion/video-motion';

const FFMPEG = process.env.FFMPEG ?? 'ffmpeg';
const WARMUP_MS = 2000;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface Options {
  seconds: number;
  rounds: number;
  streams: number[];
}

interface Measurement {
  /** CPU time over wall time, per stream, in percent of one core. */
  cpuPerStream: number;
  /** This Node process's share of cpuPerStream (Glimpser only). */
  nodePerStream?: number;
  /** JPEG frames delivered per stream per second (Glimpser only). */
  fps?: number;
  /** Grey planes delivered per stream per second (Glimpser only). */
  planes?: number;
}

/** How the cameras are used while they are measured. */
type Use = 'planes' | 'snapshots' | 'continuous' | 'detection';

const USES: Record<Use, string> = {
  planes: 'grey planes only (motion watch, nothing moving)',
  snapshots: 'grey planes + a JPEG every 2 s',
  continuous: 'grey planes + every JPEG',
  detection: 'grey planes + VideoMotionDetector on each',
};

function parseArgs(argv: string[]): Options {
  const options: Options = { seconds: 8, rounds: 2, streams: [1, 4, 8, 16] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--seconds' && Number(value) > 0) options.seconds = Number(value);
    else if (flag === '--rounds' && Number.isInteger(Number(value)) && Number(value) > 0) options.rounds = Number(value);
    else if (flag === '--streams' && /^\d+(,\d+)*$/.test(value)) options.streams = value.split(',').map(Number);
    else throw new Error(`unknown or invalid argument ${flag} ${value}: expected --seconds S, --rounds R and --streams N,N,...`);
  }
  return options;
}

/** A camera-like clip: 10 s of moving 1280x720 at 15 fps, H.264 with a keyframe every 2 s. */
function makeClip(dir: string): string {
  const clip = path.join(dir, 'camera-720p15.mp4');
  execFileSync(FFMPEG, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1280x720:rate=15',
    '-t',
    '10',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-g',
    '30',
    '-pix_fmt',
    'yuv420p',
    clip,
  ]);
  return clip;
}

/** Seconds of CPU a process has used so far; fields 14 and 15 of /proc/<pid>/stat count in clock ticks. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function measureBaseline(clip: string, streams: number, seconds: number): Promise<Measurement> {
  const children = Array.from({ length: streams }, () =>
    spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', `file:${clip}`, '-an', '-f', 'null', '-'], {
      stdio: 'ignore',
    }),
  );
  try {
    await sleep(WARMUP_MS);
    const pids = children.map((child) => child.pid as number);
    const before = pids.map(processCpuSeconds);
    const startedAt = performance.now();
    await sleep(seconds * 1000);
    const cpu = pids.reduce((sum, pid, i) => sum + processCpuSeconds(pid) - before[i], 0);
    const wall = (performance.now() - startedAt) / 1000;
    return { cpuPerStream: (cpu / wall / streams) * 100 };
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
  }
}

async function measureGlimpser(clip: string, streams: number, seconds: number, output: CaptureOutput, use: Use): Promise<Measurement> {
  let frames = 0;
  let planes = 0;
  const sources: FfmpegSource[] = [];
  const cameras: Camera[] = [];
  const closers: Array<() => void> = [];
  for (let i = 0; i < streams; i++) {
    const camera = `bench-${i}`;
    const source = new FfmpegSource({ camera, input: { kind: 'file', path: clip, loop: true }, output, ffmpegPath: FFMPEG });
    const handle = new Camera(camera, camera, source, undefined, silentLogger);
    const detector = use === 'detection' ? new VideoMotionDetector({ camera }) : null;
    handle.attach({
      continuousJpeg: use === 'continuous',
      onFrame: () => (frames += 1),
      onStatus: () => undefined,
      onGrey: (plane) => {
        planes += 1;
        detector?.detect(plane);
      },
    });
    if (use === 'snapshots') {
      const sampler = new FrameSampler(
        { kind: 'interval', everyMs: 2000 },
        () => undefined,
        () => handle.demandJpeg(),
      );
      handle.attach({ continuousJpeg: false, onFrame: (frame) => sampler.offer(frame), onStatus: () => undefined });
      // The capture node's job asks for a frame each interval; the bench asks the same way without a scheduler.
      const tick = setInterval(() => sampler.request().catch(() => undefined), 2000);
      closers.push(() => {
        clearInterval(tick);
        sampler.close();
      });
    }
    sources.push(source);
    cameras.push(handle);
  }
  try {
    await sleep(WARMUP_MS);
    const pids = sources.map((source) => source.pid as number);
    const before = pids.map(processCpuSeconds);
    const nodeBefore = process.cpuUsage();
    const [framesBefore, planesBefore] = [frames, planes];
    const startedAt = performance.now();
    await sleep(seconds * 1000);
    const restarted = sources.filter((source, i) => source.pid !== pids[i]).length;
    if (restarted > 0) throw new Error(`${restarted} of ${streams} captures restarted during the measurement: their CPU would be lost`);
    const ffmpegCpu = pids.reduce((sum, pid, i) => sum + processCpuSeconds(pid) - before[i], 0);
    const node = process.cpuUsage(nodeBefore);
    const wall = (performance.now() - startedAt) / 1000;
    const cpu = ffmpegCpu + (node.user + node.system) / 1e6;
    const perStream = (value: number): number => (value / wall / streams) * 100;
    return {
      cpuPerStream: perStream(cpu),
      nodePerStream: perStream((node.user + node.system) / 1e6),
      fps: (frames - framesBefore) / wall / streams,
      planes: (planes - planesBefore) / wall / streams,
    };
  } finally {
    for (const close of closers) close();
    await Promise.all(cameras.map((camera) => camera.close()));
  }
}

const pct = (value: number): string => `${value.toFixed(1)} %`;

/** The lowest CPU of several rounds (the others were disturbed by other work), keeping that round's rates. */
function lowest(measurements: Measurement[]): Measurement {
  return measurements.reduce((best, m) => (m.cpuPerStream < best.cpuPerStream ? m : best));
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-bench-'));
  const output: CaptureOutput = { fps: 5, jpegQuality: 5 };
  const middle = options.streams[Math.floor((options.streams.length - 1) / 2)];
  try {
    const clip = makeClip(dir);
    const version = execFileSync(FFMPEG, ['-version']).toString().split('\n')[0];
    console.log(
      `# Capture CPU: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${version}`,
    );
    console.log(
      `# 1280x720 15 fps H.264 file, -re -stream_loop -1; JPEG q ${output.jpegQuality} at up to ${output.fps} fps, 120-row grey planes at ${output.fps}/s;`,
    );
    console.log(`# ${options.seconds} s per measurement after ${WARMUP_MS / 1000} s of warm-up, lowest of ${options.rounds} interleaved rounds\n`);
    console.log('| streams | Glimpser use | baseline CPU/stream | Glimpser CPU/stream | of which Node | ratio | JPEG fps/stream | planes/s/stream |');
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
    for (const streams of options.streams) {
      const uses: Use[] = ['planes', 'snapshots', 'continuous', ...(streams === middle ? (['detection'] as const) : [])];
      const baselines: Measurement[] = [];
      const runs = new Map<Use, Measurement[]>(uses.map((use) => [use, []]));
      for (let round = 0; round < options.rounds; round++) {
        baselines.push(await measureBaseline(clip, streams, options.seconds));
        for (const use of uses) runs.get(use)!.push(await measureGlimpser(clip, streams, options.seconds, output, use));
      }
      const baseline = lowest(baselines);
      for (const use of uses) {
        const glimpser = lowest(runs.get(use)!);
        const ratio = glimpser.cpuPerStream / baseline.cpuPerStream;
        console.log(
          `| ${streams} | ${USES[use]} | ${pct(baseline.cpuPerStream)} | ${pct(glimpser.cpuPerStream)} | ${pct(glimpser.nodePerStream ?? 0)} | ` +
            `${ratio.toFixed(2)} | ${glimpser.fps?.toFixed(1)} | ${glimpser.planes?.toFixed(1)} |`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exitCode = 1;
});
