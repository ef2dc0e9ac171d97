/**
 * What motion detection costs per frame, against the floor of touching every pixel once: VideoMotionDetector
 * (and TamperDetector, which runs beside it) over grey planes of a textured scene with sensor noise, with and
 * without a moving object, against `dst.set(src)` of the same planes, measured in the same run.
 *
 *   npm run build && node dist/bench/motion.js [--seconds 2]
 *
 * Everything runs on the main thread, so the rates are for one core; each is the best of three interleaved rounds
 * of S seconds.
 */
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { GreyFrame } from '../core/frames/grey';
import { TamperDetector } from '../core/motion/tamper';
import { VideoMotionDetector } from '../core/motion/video-motion';

const SIZES = [
  { width: 177, height: 100 },
  { width: 320, height: 180 },
];
const FRAMES = 100;
const FPS = 10;
const ROUNDS = 3;

interface Row {
  size: string;
  scene: string;
  what: string;
  fps: number;
  copyFps: number;
}

function parseSeconds(argv: string[]): number {
  if (argv.length === 0) return 2;
  if (argv.length === 2 && argv[0] === '--seconds' && Number(argv[1]) > 0) return Number(argv[1]);
  throw new Error(`unknown or invalid arguments "${argv.join(' ')}": expected --seconds S`);
}

/**
 * A camera-like clip: a static textured scene with temporal noise of about ±4 levels and, when `moving`, a dark
 * box crossing it during the middle half of the frames (so a quarter of the frames see it enter and leave).
 */
function clip(width: number, height: number, moving: boolean): GreyFrame[] {
  const scene = Float32Array.from({ length: width * height }, (_, i) => {
    const x = i % width;
    const y = Math.floor(i / width);
    return 120 + 55 * Math.sin(x / 13) * Math.cos(y / 11) + 30 * Math.sin((x + 3 * y) / 4);
  });
  let seed = 7;
  const box = Math.round(height / 4);
  return Array.from({ length: FRAMES }, (_, n) => {
    const data = new Uint8Array(width * height);
    const left = moving && n >= FRAMES / 4 && n < (3 * FRAMES) / 4 ? Math.round(((n - FRAMES / 4) / (FRAMES / 2)) * (width + box)) - box : -2 * box;
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const x = i % width;
      const y = Math.floor(i / width);
      const inBox = x >= left && x < left + box && y >= box && y < 2 * box;
      data[i] = Math.max(0, Math.min(255, (inBox ? 25 : scene[i]) + (seed % 9) - 4));
    }
    return { width, height, data, timestamp: (n * 1000) / FPS, sequence: n + 1 };
  });
}

/** Frames per second of `work` over the clip, looping it for `seconds` after a warm-up; `n` counts every frame fed. */
function rate(frames: GreyFrame[], seconds: number, work: (frame: GreyFrame, n: number) => void): number {
  let n = 0;
  const warmUntil = performance.now() + 500;
  while (performance.now() < warmUntil) work(frames[n % frames.length], n++);
  const first = n;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) for (const frame of frames) work(frame, n++);
  return ((n - first) * 1000) / (performance.now() - started);
}

function measure(seconds: number): Row[] {
  const rows: Row[] = [];
  for (const { width, height } of SIZES) {
    for (const moving of [false, true]) {
      const frames = clip(width, height, moving);
      const copy = new Uint8Array(width * height);
      const motion = new VideoMotionDetector();
      const tamper = new TamperDetector();
      let checksum = 0;
      let copyFps = 0;
      let motionFps = 0;
      let tamperFps = 0;
      // Best of interleaved rounds: on a shared machine other work only ever slows a round down.
      for (let round = 0; round < ROUNDS; round++) {
        copyFps = Math.max(
          copyFps,
          rate(frames, seconds, (frame) => {
            copy.set(frame.data);
            checksum += copy[frame.sequence % copy.length];
          }),
        );
        motionFps = Math.max(
          motionFps,
          rate(frames, seconds, (frame) => {
            checksum += motion.detect(frame).boxes.length;
          }),
        );
        // Tamper decisions take time from timestamps, which must run on across loops as a live camera's do.
        tamperFps = Math.max(
          tamperFps,
          rate(frames, seconds, (frame, n) => {
            checksum += tamper.update({ ...frame, timestamp: (n * 1000) / FPS }).length;
          }),
        );
      }
      const size = `${width}x${height}`;
      const scene = moving ? 'moving box' : 'static + noise';
      rows.push({ size, scene, what: 'VideoMotionDetector', fps: motionFps, copyFps }, { size, scene, what: 'TamperDetector', fps: tamperFps, copyFps });
      // Keeps the copies and results observable, so none of the loops can be optimised away.
      if (checksum === -1) console.log(checksum);
    }
  }
  return rows;
}

function table(rows: Row[]): string {
  const lines = ['| plane | scene | detector | frames/s | ms/frame | copy frames/s | detector / copy time |', '|---|---|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(
      `| ${r.size} | ${r.scene} | ${r.what} | ${Math.round(r.fps)} | ${(1000 / r.fps).toFixed(3)} | ${Math.round(r.copyFps)} | ${Math.round(r.copyFps / r.fps)}x |`,
    );
  }
  return lines.join('\n');
}

const seconds = parseSeconds(process.argv.slice(2));
const cpu = cpus();
console.log(
  `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${seconds} s per measurement`,
);
console.log(table(measure(seconds)));
