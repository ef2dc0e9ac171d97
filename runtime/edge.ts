import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { DEFAULT_EDGE_MAX_FRAME_BYTES, isEdgeDeviceState, type EdgeDeviceState } from '../core/capture/edge-source';
import { FfmpegSource } from '../core/capture/ffmpeg-source';
import { urlSecrets, validateInput, type CaptureInput } from '../core/capture/input';
import type { CameraStatus } from '../core/capture/source';
import type { Frame } from '../core/frames/frame';
import { assertCameraId } from '../core/ids';
import { topics } from '../core/topics';
import { createLogger, type RuntimeLogger } from './logger';

const USAGE = `usage: glimpser edge --camera <url|demo> --broker mqtt://host:1883 --id <camera id>
                     [--username U --password-file F] [--fps N] [--width W --height H] [--ffmpeg PATH]
Captures a camera here and publishes its JPEG frames to glimpser/cameras/<id>/frame on the broker.
The password comes from --password-file or GLIMPSER_EDGE_PASSWORD, never from the command line.`;

export interface EdgeOptions {
  camera: string;
  input: CaptureInput;
  broker: string;
  id: string;
  username?: string;
  password?: string;
  fps: number;
  width?: number;
  height?: number;
  ffmpegPath: string;
}

/** A command-line mistake: printed as one line, exit status 2. */
export class EdgeUsageError extends Error {}

const FLAGS = {
  camera: { type: 'string' },
  broker: { type: 'string' },
  id: { type: 'string' },
  username: { type: 'string' },
  'password-file': { type: 'string' },
  fps: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  ffmpeg: { type: 'string' },
  help: { type: 'boolean' },
} as const;

function readFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new EdgeUsageError(`${(err as Error).message.split('\n')[0]} (glimpser edge --help lists the options)`);
  }
}

/** Reads and checks the arguments after `glimpser edge`; every error names the flag that was wrong. */
export function parseEdgeArgs(argv: string[], env: NodeJS.ProcessEnv): EdgeOptions | 'help' {
  const values = readFlags(argv);
  if (values.help === true) return 'help';
  const required = (flag: 'camera' | 'broker' | 'id', example: string): string => {
    const value = values[flag];
    if (value === undefined || value === '') throw new EdgeUsageError(`--${flag} is required: expected ${example}`);
    return value;
  };
  const camera = required('camera', 'a camera URL (rtsp://, http://...) or "demo"');
  const id = required('id', 'the camera id configured on the server, e.g. --id garden');
  try {
    assertCameraId(id);
  } catch (err) {
    throw new EdgeUsageError(`--id: ${(err as Error).message}`);
  }
  const fps = numberFlag(values.fps, 'fps', 5, (n) => n > 0 && n <= 60, 'frames per second above 0 and at most 60');
  const size = (flag: 'width' | 'height') =>
    values[flag] === undefined
      ? undefined
      : numberFlag(values[flag], flag, 0, (n) => Number.isInteger(n) && n >= 16 && n <= 7680, 'a whole number of pixels from 16 to 7680');
  const width = size('width');
  const height = size('height');
  let input: CaptureInput;
  if (camera === 'demo') {
    input = { kind: 'demo', width: width ?? 640, height: height ?? 360, fps };
  } else {
    try {
      input = validateInput({ kind: 'url', url: camera });
    } catch (err) {
      throw new EdgeUsageError((err as Error).message.replace(/^input\.url/, '--camera'));
    }
  }
  const broker = checkBroker(required('broker', "the server's MQTT address, e.g. mqtt://glimpser.local:1883"));
  const password = readPassword(values['password-file'], env);
  const username = values.username;
  if (username !== undefined && password === undefined)
    throw new EdgeUsageError('--username needs a password: pass --password-file FILE or set GLIMPSER_EDGE_PASSWORD');
  if (username === undefined && password !== undefined)
    throw new EdgeUsageError('--username is required with a password: expected the device username configured for the camera');
  return { camera, input, broker, id, username, password, fps, width, height, ffmpegPath: values.ffmpeg ?? env.GLIMPSER_FFMPEG_PATH ?? 'ffmpeg' };
}

function numberFlag(raw: string | undefined, flag: string, fallback: number, ok: (n: number) => boolean, expected: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !ok(value)) throw new EdgeUsageError(`--${flag} "${raw}" is invalid: expected ${expected}`);
  return value;
}

function checkBroker(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EdgeUsageError(`--broker "${raw}" is not a URL: expected e.g. mqtt://glimpser.local:1883`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol))
    throw new EdgeUsageError(`--broker scheme "${url.protocol}" is not supported: expected mqtt, mqtts, ws or wss`);
  // Anything in the URL is visible to every user of the machine in the process list.
  if (url.username !== '' || url.password !== '')
    throw new EdgeUsageError('--broker must not contain a user or password: use --username with --password-file or GLIMPSER_EDGE_PASSWORD');
  return raw;
}

function readPassword(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (file === undefined) return env.GLIMPSER_EDGE_PASSWORD === '' ? undefined : env.GLIMPSER_EDGE_PASSWORD;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EdgeUsageError(`--password-file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new EdgeUsageError(`--password-file ${file} is empty: expected the device password`);
  return password;
}

/** aedes refuses client ids over 23 characters; a readable prefix plus a hash keeps long camera ids distinct. */
function clientIdFor(camera: string): string {
  const plain = `edge-${camera}`;
  return plain.length <= 23 ? plain : `edge-${camera.slice(0, 10)}-${createHash('sha256').update(camera).digest('hex').slice(0, 7)}`;
}

function deviceState(status: CameraStatus): string {
  const state: EdgeDeviceState = { ...status, source: 'edge', updatedAt: new Date().toISOString() };
  return JSON.stringify(state);
}

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const STOP_DEADLINE_MS = 8000;

/**
 * Runs an edge camera until SIGTERM/SIGINT: local capture with ffmpeg, each JPEG published with QoS 0 (a frame that
 * finds the previous one still being sent is dropped rather than queued), the state retained, and a last will that
 * marks the camera offline if the connection is lost. MQTT reconnects with growing delays; ffmpeg keeps running.
 */
export function runEdge(options: EdgeOptions, log: RuntimeLogger): { stop(): Promise<void> } {
  const frameTopic = topics.cameraFrame(options.id);
  const stateTopic = topics.cameraState(options.id);
  const source = new FfmpegSource({
    camera: options.id,
    input: options.input,
    output: { fps: options.fps, jpegQuality: 5, ...(options.input.kind === 'url' ? { width: options.width, height: options.height } : {}) },
    ffmpegPath: options.ffmpegPath,
    // Larger frames would be refused by the server anyway; dropping them here saves the uplink.
    maxFrameBytes: DEFAULT_EDGE_MAX_FRAME_BYTES,
    logger: log,
  });
  const lost: CameraStatus = {
    camera: options.id,
    state: 'offline',
    fps: 0,
    lastFrameAt: null,
    lastError: 'the edge device lost its connection to the broker',
    restarts: 0,
  };
  const client = mqtt.connect(options.broker, {
    clientId: clientIdFor(options.id),
    username: options.username,
    password: options.password,
    clean: true,
    keepalive: 30,
    connectTimeout: 10000,
    reconnectPeriod: RECONNECT_MIN_MS,
    reconnectOnConnackError: true,
    queueQoSZero: false,
    will: { topic: stateTopic, payload: Buffer.from(deviceState(lost)), qos: 1, retain: true },
  });
  let sending = false;
  let dropped = 0;
  let published = '';
  const publishState = (status: CameraStatus, always = false) => {
    const key = `${status.state}|${status.lastError}|${status.restarts}`;
    if (!client.connected || (key === published && !always)) return;
    published = key;
    client.publish(stateTopic, deviceState(status), { qos: 1, retain: true }, (err) => {
      if (err) log.warn({ err: err.message }, 'could not publish the camera state');
    });
  };
  source.on('status', (status: CameraStatus) => publishState(status));
  source.on('frame', (frame: Frame) => {
    if (!client.connected || sending) {
      dropped += 1;
      return;
    }
    sending = true;
    client.publish(frameTopic, frame.jpeg, { qos: 0 }, () => {
      sending = false;
    });
  });
  client.on('connect', () => {
    client.options.reconnectPeriod = RECONNECT_MIN_MS;
    log.info({ broker: options.broker, topic: frameTopic, framesDropped: dropped }, 'connected to the broker');
    dropped = 0;
    // The retained state may be our last will from an earlier connection: replace it.
    publishState(source.status(), true);
    client.subscribe(stateTopic, { qos: 1 }, (err) => {
      if (err) log.warn({ err: err.message }, 'cannot watch the retained camera state');
    });
  });
  client.on('message', (_topic, payload) => {
    // An old session's will, arriving after this one is up, would leave the camera marked offline.
    const state: unknown = parseJson(payload);
    const down = isEdgeDeviceState(state) && (state.state === 'offline' || state.state === 'stopped');
    if (down && source.status().state === 'online') publishState(source.status(), true);
  });
  client.on('close', () => {
    sending = false;
    client.options.reconnectPeriod = Math.min(RECONNECT_MAX_MS, (client.options.reconnectPeriod ?? RECONNECT_MIN_MS) * 2);
  });
  client.on('error', (err) => log.warn({ broker: options.broker, err: err.message }, 'broker connection failed'));
  source.start();
  log.info({ camera: options.id, input: options.input.kind }, 'edge camera started');
  return {
    stop: async () => {
      // Stopping publishes the `stopped` state; a clean end waits for it and tells the broker to drop the will.
      await source.stop();
      await client.endAsync();
    },
  };
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
}

/** `glimpser edge ...`: exits 2 on a usage error, 0 after SIGTERM/SIGINT once ffmpeg has exited. */
export function edgeMain(argv: string[]): void {
  let options: EdgeOptions | 'help';
  try {
    options = parseEdgeArgs(argv, process.env);
  } catch (err) {
    if (!(err instanceof EdgeUsageError)) throw err;
    process.stderr.write(`glimpser edge: ${err.message}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // ffmpeg inherits the environment; it has no use for the broker password.
  delete process.env.GLIMPSER_EDGE_PASSWORD;
  const log = createLogger(process.env.GLIMPSER_LOG_LEVEL ?? 'info');
  log.scrubber.add(options.password);
  for (const secret of options.input.kind === 'url' ? urlSecrets(options.input.url) : []) log.scrubber.add(secret);
  const edge = runEdge(options, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    setTimeout(() => {
      log.error('stop took too long; exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    void edge.stop().then(() => {
      log.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
