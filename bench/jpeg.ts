/**
 * What finding JPEGs in a byte stream costs by the size of the chunks it arrives in: JpegSplitter over large,
 * incompressible frames (ffmpeg's MJPEG encoder on noise, as a busy 1080p camera at top quality makes) fed in
 * 64-byte to 1 MiB chunks, against the same frames in one chunk each, measured in the same run.
 *
 *   npm run build && node dist/bench/jpeg.js [--seconds 2]
 *
 * A splitter that re-scanned a frame from its start on each chunk would take time growing with the square of the
 * frame size over the chunk size; a linear one costs the same per byte whatever the chunks, so the ratios stay near
 * 1 and the 64-byte rows show only the cost per call. Each figure is the best of three interleaved rounds.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { JpegSplitter } from '../core/frames/jpeg';

const FFMPEG = process.env.FFMPEG ?? 'ffmpeg';
const CHUNKS = [64, 4096, 65536, 1 << 20];
const ROUNDS = 3;

function parseSeconds(argv: string[]): number {
  if (argv.length === 0) return 2;
  if (argv.length === 2 && argv[0] === '--seconds' && Number(argv[1]) > 0) return Number(argv[1]);
  throw new Error(`unknown or invalid arguments "${argv.join(' ')}": expected --seconds S`);
}

/** One JPEG of noise at quality 2 (about 1 MB at 1920x1080): nearly every byte is entropy-coded data to scan. */
function noiseJpeg(width: number, height: number): Buffer {
  return execFileSync(
    FFMPEG,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}:rate=1,noise=alls=100:allf=t`,
      '-frames:v',
      '1',
      '-c:v',
      'mjpeg',
      '-q:v',
      '2',
      '-f',
      'image2pipe',
      'pipe:1',
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
}

/** Megabytes a second the splitter finds frames in, feeding `frame` in `chunk`-byte pieces for `seconds`. */
function throughput(frame: Buffer, chunk: number, seconds: number): number {
  const splitter = new JpegSplitter({ maxFrameBytes: frame.length + 1 });
  let bytes = 0;
  let found = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    for (let at = 0; at < frame.length; at += chunk) found += splitter.push(frame.subarray(at, at + chunk)).length;
    bytes += frame.length;
  }
  const elapsed = performance.now() - started;
  if (found * frame.length !== bytes) throw new Error(`the splitter found ${found} frames in ${bytes / frame.length} fed`);
  return bytes / 1e6 / (elapsed / 1000);
}

interface Row {
  frame: string;
  bytes: number;
  chunk: number;
  mbps: number;
  wholeMbps: number;
}

function measure(seconds: number): Row[] {
  const rows: Row[] = [];
  for (const [width, height] of [
    [1280, 720],
    [1920, 1080],
    [3840, 2160],
  ]) {
    const frame = noiseJpeg(width, height);
    const best = new Map<number, number>();
    let whole = 0;
    // Best of interleaved rounds: on a shared machine other work only ever slows a round down.
    for (let round = 0; round < ROUNDS; round++) {
      whole = Math.max(whole, throughput(frame, frame.length, seconds));
      for (const chunk of CHUNKS) best.set(chunk, Math.max(best.get(chunk) ?? 0, throughput(frame, chunk, seconds)));
    }
    for (const chunk of CHUNKS) rows.push({ frame: `${width}x${height}`, bytes: frame.length, chunk, mbps: best.get(chunk)!, wholeMbps: whole });
  }
  return rows;
}

function table(rows: Row[]): string {
  const lines = ['| frame | frame bytes | chunk bytes | MB/s | whole-frame MB/s | time / whole-frame time |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of rows)
    lines.push(`| ${r.frame} | ${r.bytes} | ${r.chunk} | ${r.mbps.toFixed(0)} | ${r.wholeMbps.toFixed(0)} | ${(r.wholeMbps / r.mbps).toFixed(2)}x |`);
  return lines.join('\n');
}

const seconds = parseSeconds(process.argv.slice(2));
const cpu = cpus();
console.log(
  `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${seconds} s per measurement`,
);
console.log(table(measure(seconds)));
