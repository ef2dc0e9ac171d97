/**
 * What capture costs on top of decoding: N cameras captured by Glimpser (FfmpegSource: one decode split into
 * 5 fps JPEGs and a 120-row grey plane, read and framed in this process) against N plain `ffmpeg -f null`
 * decodes of the same clip, measured in the same run on the same machine.
 *
 *   npm run build && node dist/bench/capture.js [--seconds 10] [--streams 1,4,8,16]
 *
 * CPU is user+system time: /proc/<pid>/stat for the ffmpeg processes, process.cpuUsage() for this one.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FfmpegSource } from '../core/capture/ffmpeg-source';
import type { CaptureOutput, GreyOutput } from '../core/capture/ffmpeg-args';

const FFMPEG = process.env.FFMPEG ?? 'ffmpeg';
const WARMUP_MS = 2000;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface Options {
  seconds: number;
  streams: number[];
}

interface Measurement {
  /** CPU time over wall time, per stream, in percent of one core. */
  cpuPerStream: number;
  /** This Node process's share of cpuPerStream (Glimpser only). */
  nodePerStream?: number;
  /** JPEG frames delivered per stream per second (Glimpser only). */
  fps?: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { seconds: 10, streams: [1, 4, 8, 16] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--seconds' && Number(value) > 0) options.seconds = Number(value);
    else if (flag === '--streams' && /^\d+(,\d+)*$/.test(value)) options.streams = value.split(',').map(Number);
    else throw new Error(`unknown or invalid argument ${flag} ${value}: expected --seconds S and --streams N,N,...`);
  }
  return options;
}

/** A camera-like clip: 10 s of moving 1280x720 at 15 fps, H.264 with a keyframe every 2 s. */
function makeClip(dir: string): string {
  const clip = path.join(dir, 'camera-720p15.mp4');
  execFileSync(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=15', '-t', '10',
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-pix_fmt', 'yuv420p', clip,
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
    spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', `file:${clip}`, '-an', '-f', 'null', '-'], { stdio: 'ignore' }),
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

async function measureGlimpser(clip: string, streams: number, seconds: number, output: CaptureOutput, grey?: GreyOutput): Promise<Measurement> {
  const sources = Array.from({ length: streams }, (_, i) =>
    new FfmpegSource({ camera: `bench-${i}`, input: { kind: 'file', path: clip, loop: true }, output, grey, ffmpegPath: FFMPEG }),
  );
  let frames = 0;
  for (const source of sources) {
    source.on('frame', () => (frames += 1));
    source.start();
  }
  try {
    await sleep(WARMUP_MS);
    const pids = sources.map((source) => source.pid as number);
    const before = pids.map(processCpuSeconds);
    const nodeBefore = process.cpuUsage();
    const framesBefore = frames;
    const startedAt = performance.now();
    await sleep(seconds * 1000);
    const restarted = sources.filter((source, i) => source.pid !== pids[i]).length;
    if (restarted > 0) throw new Error(`${restarted} of ${streams} captures restarted during the measurement: their CPU would be lost`);
    const ffmpegCpu = pids.reduce((sum, pid, i) => sum + processCpuSeconds(pid) - before[i], 0);
    const node = process.cpuUsage(nodeBefore);
    const wall = (performance.now() - startedAt) / 1000;
    const cpu = ffmpegCpu + (node.user + node.system) / 1e6;
    const perStream = (seconds: number): number => (seconds / wall / streams) * 100;
    return { cpuPerStream: perStream(cpu), nodePerStream: perStream((node.user + node.system) / 1e6), fps: (frames - framesBefore) / wall / streams };
  } finally {
    await Promise.all(sources.map((source) => source.stop()));
  }
}

const pct = (value: number): string => `${value.toFixed(1)} %`;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-bench-'));
  const output: CaptureOutput = { fps: 5, jpegQuality: 5 };
  const grey: GreyOutput = { height: 120 };
  try {
    const clip = makeClip(dir);
    const version = execFileSync(FFMPEG, ['-version']).toString().split('\n')[0];
    console.log(`# Capture CPU: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${version}`);
    console.log(`# 1280x720 15 fps H.264 file, -re -stream_loop -1; Glimpser: ${output.fps} fps JPEG (q ${output.jpegQuality}) + ${grey.height}-row grey plane; ${options.seconds} s per measurement\n`);
    console.log('| streams | baseline CPU/stream | Glimpser CPU/stream | of which Node | ratio | JPEG fps/stream |');
    console.log('|---:|---:|---:|---:|---:|---:|');
    const baselines = new Map<number, number>();
    for (const streams of options.streams) {
      const baseline = await measureBaseline(clip, streams, options.seconds);
      baselines.set(streams, baseline.cpuPerStream);
      const glimpser = await measureGlimpser(clip, streams, options.seconds, output, grey);
      const ratio = glimpser.cpuPerStream / baseline.cpuPerStream;
      console.log(`| ${streams} | ${pct(baseline.cpuPerStream)} | ${pct(glimpser.cpuPerStream)} | ${pct(glimpser.nodePerStream ?? 0)} | ${ratio.toFixed(2)} | ${glimpser.fps?.toFixed(1)} |`);
    }
    // Where the extra goes, at one stream count measured above: without the grey plane, and at 1 fps JPEG.
    const streams = options.streams.includes(4) ? 4 : options.streams[0];
    const base = baselines.get(streams) ?? Number.NaN;
    const noGrey = await measureGlimpser(clip, streams, options.seconds, output);
    const slowJpeg = await measureGlimpser(clip, streams, options.seconds, { ...output, fps: 1 }, grey);
    const smallJpeg = await measureGlimpser(clip, streams, options.seconds, { ...output, width: 640, height: 360 }, grey);
    console.log(`\nAttribution at ${streams} streams (CPU/stream, ratio to that baseline):`);
    console.log(`- ${output.fps} fps JPEG without the grey plane: ${pct(noGrey.cpuPerStream)} (${(noGrey.cpuPerStream / base).toFixed(2)})`);
    console.log(`- 1 fps JPEG with the grey plane: ${pct(slowJpeg.cpuPerStream)} (${(slowJpeg.cpuPerStream / base).toFixed(2)})`);
    console.log(`- ${output.fps} fps JPEG scaled to 640x360, with the grey plane: ${pct(smallJpeg.cpuPerStream)} (${(smallJpeg.cpuPerStream / base).toFixed(2)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exitCode = 1;
});
