import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../core/log/logger';

/**
 * What tests wait on and record, written once (as aedes' test/helper.js): tools the set-up installed, polling a
 * real condition, the next matching event of an emitter, every event with its time, a free port, a recording
 * logger and metric values. Flow tests ask their nodes through test/support/flow.ts.
 */

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
  const out = spawnSync(
    findTool('ffprobe'),
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file],
    { encoding: 'utf8' },
  );
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

/** The first `event` whose value `matches`, or a rejection naming the event after `timeoutMs`; the listener is always removed. */
export function waitFor<T>(emitter: EventEmitter, event: string, matches: (value: T) => boolean = () => true, timeoutMs = 20000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no matching '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (value: T): void => {
      if (!matches(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    emitter.on(event, listener);
  });
}

/** Every `event` the emitter sends from now on, with when it came, so a test can wait on and reason about their order. */
export function recordEvents<T>(emitter: EventEmitter, event: string): Array<{ value: T; at: number }> {
  const seen: Array<{ value: T; at: number }> = [];
  emitter.on(event, (value: T) => seen.push({ value, at: performance.now() }));
  return seen;
}

/** A loopback port nothing listens on: connecting is refused at once, and a server may bind it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  obj: Record<string, unknown>;
  msg?: string;
}

/**
 * A Logger that keeps every entry and also emits it as 'entry', so a test can read what was logged or wait for a
 * line that marks something the code under test did (a frame rejected, a retry) instead of sleeping.
 */
export function recordingLogger(): { logger: Logger; entries: LogEntry[]; events: EventEmitter } {
  const entries: LogEntry[] = [];
  const events = new EventEmitter();
  const at =
    (level: LogEntry['level']) =>
    (objOrMsg: Record<string, unknown> | string, msg?: string): void => {
      const entry: LogEntry = typeof objOrMsg === 'string' ? { level, obj: {}, msg: objOrMsg } : { level, obj: objOrMsg, msg };
      entries.push(entry);
      events.emit('entry', entry);
    };
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => logger };
  return { logger, entries, events };
}

/** A prom-client metric as tests read it. */
interface ReadableMetric {
  get(): Promise<{ values: Array<{ value: number; labels: Partial<Record<string, string | number>> }> }>;
}

/** The value of the series of `metric` whose labels include `labels`, 0 when there is none yet. */
export async function metricValue(metric: ReadableMetric, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.find((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted))?.value ?? 0;
}
