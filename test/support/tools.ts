import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** Finds a Debian tool that scripts/setup.mjs installed: PATH, the sbin directories, or the project's tool cache. */
export function findTool(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', path.join(ROOT, '.cache', 'tools', 'bin')];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found: run "npm test" (its set-up step installs the Debian package)`);
}

export interface ProbedImage {
  codec: string;
  width: number;
  height: number;
}

/** Asks ffprobe what an image really is, so a test fails on anything ffprobe cannot decode. */
export function ffprobeImage(bytes: Buffer): ProbedImage {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'glimpser-probe-')), 'frame.jpg');
  writeFileSync(file, bytes);
  const out = spawnSync(findTool('ffprobe'), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ffprobe could not read the frame: ${out.stderr}`);
  const stream = (JSON.parse(out.stdout) as { streams: Array<{ codec_name: string; width: number; height: number }> }).streams[0];
  return { codec: stream.codec_name, width: stream.width, height: stream.height };
}

/** Polls `probe` until it returns a value that is not undefined, or fails with the last reason after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
