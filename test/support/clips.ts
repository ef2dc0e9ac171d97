import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GreyFrame } from '../../core/frames/grey';
import type { Polygon } from '../../core/motion/regions';
import { findTool } from './tools';

/**
 * Ground-truth clips for motion and tamper detection: a static textured scene (made here, deterministically)
 * filmed at 640x360, 10 fps, 14 s, with one thing happening at a known time. Clips are H.264 like a camera's,
 * so detectors also see compression noise, and are cached in the temp directory under a hash of their recipe.
 */
export const CLIP_FPS = 10;
export const CLIP_SECONDS = 14;
const FRAME_MS = 1000 / CLIP_FPS;

export const CLIP_NAMES = ['object', 'noise', 'lighting', 'masked-clock', 'covered', 'moved', 'defocus'] as const;
export type ClipName = (typeof CLIP_NAMES)[number];

/** When things happen in the clips, in seconds from the first frame. */
export const TRUTH = {
  /** The object is first in the picture just after this, and wholly out of it from `leaveS`. */
  object: { enterS: 5, leaveS: 9 },
  /** Lighting ramps up to 1.6 times as bright over 0.5 s from here. */
  lighting: { rampS: 5, rampMs: 500, gain: 1.6 },
  covered: { atS: 5 },
  moved: { atS: 5 },
  defocus: { atS: 5 },
} as const;

/** The corner where masked-clock's clock ticks, with a margin: a mask over it must hide all its motion. */
export const CLOCK_MASK: Polygon = [
  [0.68, 0],
  [1, 0],
  [1, 0.22],
  [0.68, 0.22],
];

const SCENE = { width: 1280, height: 720 };
/** Bump when sceneImage draws something else: cached clips are found by a hash of everything that makes them. */
const SCENE_VERSION = 1;
/** The part of the scene a camera sees; `moved` pans from here to another part. */
const VIEW = 'crop=640:360:320:180';
/** Mild temporal noise, as any camera sensor adds. */
const SENSOR = 'noise=alls=4:allf=t';
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';

/** 0 before `atS`, rising to 1 over `seconds`; `time` is the filter's name for the time variable. */
function ramp(atS: number, seconds: number, time = 't'): string {
  return `clip((${time}-${atS})/${seconds},0,1)`;
}

/** Filter graphs from the scene image ([0:v]) and, where used, a plain box ([1:v]) to [out]. */
function recipe(name: ClipName): { graph: string; box?: boolean } {
  switch (name) {
    case 'object': {
      // A 120x150 dark box crossing from left to right: it enters at enterS and is gone at leaveS.
      const { enterS, leaveS } = TRUTH.object;
      const speed = (640 + 120) / (leaveS - enterS);
      return {
        graph: `[0:v]${VIEW}[view];[view][1:v]overlay=x='-120+(t-${enterS})*${speed}':y=150:enable='between(t,${enterS},${leaveS})',${SENSOR}[out]`,
        box: true,
      };
    }
    case 'noise':
      return { graph: `[0:v]${VIEW},noise=alls=12:allf=t[out]` };
    case 'lighting': {
      const { rampS, rampMs, gain } = TRUTH.lighting;
      return { graph: `[0:v]${VIEW},format=gray,geq=lum='min(255,lum(X,Y)*(1+${gain - 1}*${ramp(rampS, rampMs / 1000, 'T')}))',${SENSOR}[out]` };
    }
    case 'masked-clock': {
      const draw = `drawtext=fontfile=${FONT}:fontcolor=white`;
      // A panel with a running clock and a marker that steps every frame, as camera overlays have.
      return {
        graph: `[0:v]${VIEW},drawbox=x=470:y=8:w=160:h=58:color=0x101010:t=fill,${draw}:text='%{pts\\:hms}':x=482:y=14:fontsize=22,${draw}:text='>':x='478+mod(n*7\\,140)':y=40:fontsize=20,${SENSOR}[out]`,
      };
    }
    case 'covered':
      return { graph: `[0:v]${VIEW},fade=t=out:st=${TRUTH.covered.atS}:d=0.5:color=0x0c0c0c,${SENSOR}[out]` };
    case 'moved': {
      const r = ramp(TRUTH.moved.atS, 0.5);
      return { graph: `[0:v]crop=640:360:x='320+300*${r}':y='180-140*${r}',${SENSOR}[out]` };
    }
    case 'defocus':
      return { graph: `[0:v]${VIEW},boxblur=luma_radius=4:luma_power=1:enable='gte(t,${TRUTH.defocus.atS})',${SENSOR}[out]` };
  }
}

const cacheDir = ((): string => {
  const hash = createHash('sha256').update(JSON.stringify([SCENE_VERSION, SCENE, VIEW, SENSOR, CLIP_FPS, CLIP_SECONDS]));
  for (const name of CLIP_NAMES) hash.update(recipe(name).graph);
  return path.join(tmpdir(), `glimpser-motion-clips-${hash.digest('hex').slice(0, 12)}`);
})();

/** Writes via a temporary name, so parallel test workers never read half a file. */
function writeOnce(file: string, make: (tmp: string) => void): string {
  if (existsSync(file)) return file;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp${path.extname(file)}`;
  make(tmp);
  renameSync(tmp, file);
  return file;
}

/** The clip's file (H.264 in MP4), made on first use. */
export function clipFile(name: ClipName): string {
  const scene = writeOnce(path.join(cacheDir, 'scene.pgm'), (tmp) => writeFileSync(tmp, sceneImage(SCENE.width, SCENE.height)));
  return writeOnce(path.join(cacheDir, `${name}.mp4`), (tmp) => {
    if (name === 'masked-clock' && !existsSync(FONT))
      throw new Error(`${FONT} not found: the masked-clock clip draws its clock with it (Debian package fonts-dejavu-core)`);
    const { graph, box } = recipe(name);
    const inputs = ['-loop', '1', '-framerate', String(CLIP_FPS), '-i', scene];
    if (box) inputs.push('-f', 'lavfi', '-i', `color=c=0x1c1c1c:s=120x150:r=${CLIP_FPS}`);
    execFileSync(
      findTool('ffmpeg'),
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        ...inputs,
        '-filter_complex',
        graph,
        '-map',
        '[out]',
        '-t',
        String(CLIP_SECONDS),
        '-r',
        String(CLIP_FPS),
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '20',
        '-g',
        '20',
        '-pix_fmt',
        'yuv420p',
        tmp,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  });
}

/** The clip decoded as capture's grey output would be: luma scaled to `height` rows, timestamps from frame index / fps. */
export function greyFrames(name: ClipName, height = 180): GreyFrame[] {
  const raw = execFileSync(
    findTool('ffmpeg'),
    ['-hide_banner', '-loglevel', 'error', '-i', clipFile(name), '-vf', `scale=-2:${height}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const width = 2 * Math.round((640 * height) / 360 / 2);
  const size = width * height;
  if (raw.length % size !== 0) throw new Error(`clip ${name} decoded to ${raw.length} bytes: not a whole number of ${width}x${height} frames`);
  return Array.from({ length: raw.length / size }, (_, i) => ({
    width,
    height,
    data: new Uint8Array(raw.buffer, raw.byteOffset + i * size, size),
    timestamp: i * FRAME_MS,
    sequence: i + 1,
  }));
}

/**
 * A grey scene with structure at every scale (value noise in four octaves) and a few hard-edged shapes, so no
 * part of it looks like another: a camera moved to another part of it sees a different picture. As binary PGM.
 */
function sceneImage(width: number, height: number): Buffer {
  const random = mulberry32(20240605);
  const value = new Float32Array(width * height);
  for (const { cell, weight } of [
    { cell: 160, weight: 0.45 },
    { cell: 56, weight: 0.3 },
    { cell: 18, weight: 0.15 },
    { cell: 6, weight: 0.1 },
  ]) {
    const cols = Math.ceil(width / cell) + 2;
    const lattice = Float32Array.from({ length: cols * (Math.ceil(height / cell) + 2) }, () => random());
    for (let y = 0; y < height; y++) {
      const gy = Math.floor(y / cell);
      const fy = smooth(y / cell - gy);
      for (let x = 0; x < width; x++) {
        const gx = Math.floor(x / cell);
        const fx = smooth(x / cell - gx);
        const at = (cx: number, cy: number): number => lattice[cy * cols + cx];
        const top = at(gx, gy) + (at(gx + 1, gy) - at(gx, gy)) * fx;
        const bottom = at(gx, gy + 1) + (at(gx + 1, gy + 1) - at(gx, gy + 1)) * fx;
        value[y * width + x] += weight * (top + (bottom - top) * fy);
      }
    }
  }
  const pixels = Buffer.alloc(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(Math.min(1, Math.max(0, (value[i] - 0.2) / 0.6)) * 200 + 25);
  for (let shape = 0; shape < 24; shape++) {
    const w = 30 + Math.floor(random() * 160);
    const h = 30 + Math.floor(random() * 160);
    const x0 = Math.floor(random() * (width - w));
    const y0 = Math.floor(random() * (height - h));
    const shade = Math.round(20 + random() * 215);
    for (let y = y0; y < y0 + h; y++) pixels.fill(shade, y * width + x0, y * width + x0 + w);
  }
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`, 'latin1'), pixels]);
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** A small seeded generator, so the scene is the same on every machine and run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
