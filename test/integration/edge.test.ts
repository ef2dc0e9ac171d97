import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { DeviceRegistry } from '../../core/capture/devices';
import { EdgeSource } from '../../core/capture/edge-source';
import type { CameraStatus } from '../../core/capture/source';
import type { Frame } from '../../core/frames/frame';
import { silentLogger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { topics } from '../../core/topics';
import { EmbeddedBroker } from '../../runtime/broker';
import { UserStore } from '../../runtime/stores/users';
import { CLI, descendantsOf, isAlive, REPO_ROOT, stopProcess } from '../support/glimpser-process';
import { eventually, ffprobeImage, findTool, freePort, metricValue, waitFor } from '../support/tools';

const ADMIN_PASSWORD = 'admin-password-for-edge-tests';
const DEVICE = { cameraId: 'garden', username: 'garden-device', password: 'garden-device-secret' };

interface EdgeProcess {
  proc: ChildProcess;
  logs: string[];
}

function startEdge(args: string[], env: Record<string, string> = {}): EdgeProcess {
  const proc = spawn(process.execPath, [CLI, 'edge', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  proc.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
  proc.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
  return { proc, logs };
}

function ffmpegsUnder(pid: number): number[] {
  return descendantsOf(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'ffmpeg';
    } catch {
      return false;
    }
  });
}

function connect(port: number, options: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

beforeAll(() => {
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'runtime', 'edge.js'))) execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
});

describe('glimpser edge against the embedded broker', () => {
  let broker: EmbeddedBroker;
  let port: number;
  let source: EdgeSource;
  let edge: EdgeProcess;
  let admin: MqttClient;
  const seen: string[] = [];

  beforeAll(async () => {
    const users = new UserStore(mkdtempSync(path.join(tmpdir(), 'glimpser-edge-')));
    await users.open();
    await users.ensureAdmin(ADMIN_PASSWORD);
    const devices = new DeviceRegistry();
    devices.register(DEVICE);
    broker = await EmbeddedBroker.create(users, silentLogger, devices);
    port = await broker.listenTcp('127.0.0.1', 0);
    await broker.publish(topics.available, 'online', { retain: true, qos: 1 });
    source = new EdgeSource({ camera: 'garden', bus: broker, offlineAfterMs: 5000 });
    source.start();
    admin = await connect(port, { username: 'admin', password: ADMIN_PASSWORD });
    admin.on('message', (topic) => seen.push(topic));
    await admin.subscribeAsync('glimpser/#');
    edge = startEdge(
      [
        '--camera',
        'demo',
        '--broker',
        `mqtt://127.0.0.1:${port}`,
        '--id',
        'garden',
        '--username',
        DEVICE.username,
        '--fps',
        '10',
        '--width',
        '320',
        '--height',
        '240',
      ],
      { GLIMPSER_EDGE_PASSWORD: DEVICE.password },
    );
  });

  afterAll(async () => {
    if (edge.proc.exitCode === null) await stopProcess(edge.proc, 'SIGKILL');
    await source.stop();
    admin.end(true);
    await broker.close();
  });

  it("delivers the device's JPEG frames to an EdgeSource on the server, which goes online", async () => {
    const frame = await waitFor<Frame>(source, 'frame');
    expect(ffprobeImage(frame.jpeg)).toEqual({ codec: 'mjpeg', width: 320, height: 240 });
    expect(frame.meta).toMatchObject({ camera: 'garden', width: 320, height: 240, bytes: frame.jpeg.length });
    expect(source.status().state).toBe('online');
    expect(source.external).toBe(true);
  });

  it("keeps the password off the process list and out of ffmpeg's environment", () => {
    const pids = [edge.proc.pid!, ...ffmpegsUnder(edge.proc.pid!)];
    expect(pids.length).toBeGreaterThan(1);
    for (const pid of pids) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(DEVICE.password);
    }
    for (const pid of pids.slice(1)) expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(DEVICE.password);
    expect(edge.logs.join('')).not.toContain(DEVICE.password);
  });

  it('lets the device publish only under its own camera: other cameras and glimpser/available never arrive', async () => {
    const denied = await metricValue(metrics.mqttAuthFailuresTotal, { reason: 'publish_denied' });
    for (const topic of ['glimpser/cameras/porch/frame', topics.available]) {
      const device = await connect(port, { username: DEVICE.username, password: DEVICE.password });
      // MQTT 3.1.1 has no refusal for a PUBLISH: as Mosquitto does, the broker acknowledges and drops it [MQTT-3.3.5-2].
      await device.publishAsync(topic, 'forged', { qos: 1 });
      expect(device.connected).toBe(true);
      device.end(true);
    }
    await admin.publishAsync('glimpser/test/marker', 'after');
    await eventually(async () => (seen.includes('glimpser/test/marker') ? true : undefined), 5000, 'marker');
    expect(seen).not.toContain('glimpser/cameras/porch/frame');
    expect(seen.filter((t) => t === topics.available)).toHaveLength(1); // the retained one, on subscribing
    expect(await metricValue(metrics.mqttAuthFailuresTotal, { reason: 'publish_denied' })).toBe(denied + 2);
  });

  it("lets the device subscribe only to its own camera's topics", async () => {
    const before = await metricValue(metrics.mqttAuthFailuresTotal, { reason: 'subscribe_denied' });
    const device = await connect(port, { username: DEVICE.username, password: DEVICE.password });
    // A refused filter comes back as 0x80 in the SUBACK (MQTT 3.1.1 §3.9.3); the connection stays up.
    for (const filter of ['glimpser/#', 'glimpser/cameras/+/state', 'glimpser/cameras/porch/#', '#']) {
      await expect(device.subscribeAsync(filter)).rejects.toMatchObject({ packet: { granted: [128] } });
    }
    expect(await device.subscribeAsync('glimpser/cameras/garden/#')).toEqual([{ topic: 'glimpser/cameras/garden/#', qos: 0 }]);
    device.end(true);
    expect(await metricValue(metrics.mqttAuthFailuresTotal, { reason: 'subscribe_denied' })).toBe(before + 4);
  });

  it('cuts off a device once its camera unregisters it, and refuses it afterwards', async () => {
    const login = { cameraId: 'porch', username: 'porch-device', password: 'porch-device-secret' };
    const unregister = broker.devices.register(login);
    expect(() => broker.devices.register({ ...login, cameraId: 'shed' })).toThrow('device username "porch-device" is already used by camera porch');
    const device = await connect(port, { username: login.username, password: login.password });
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    unregister();
    await closed;
    device.end(true);
    await expect(connect(port, { username: login.username, password: login.password })).rejects.toThrow(/Not authorized|Bad username/i);
  });

  it('refuses the device login with a wrong password', async () => {
    await expect(connect(port, { username: DEVICE.username, password: 'wrong-password' })).rejects.toThrow(/Not authorized|Bad username/i);
  });

  it('drops a non-JPEG and an oversize payload with counted reasons, and later frames still arrive', async () => {
    const notJpeg = await metricValue(metrics.framesRejectedTotal, { camera: 'garden', reason: 'not_jpeg' });
    const oversize = await metricValue(metrics.framesRejectedTotal, { camera: 'garden', reason: 'oversize' });
    const device = await connect(port, { username: DEVICE.username, password: DEVICE.password });
    const refusedText = waitFor<CameraStatus>(source, 'status', (s) => s.lastError?.includes('not a complete JPEG') === true);
    await device.publishAsync(topics.cameraFrame('garden'), 'definitely not a jpeg');
    expect((await refusedText).lastError).toBe('edge device sent 21 bytes on glimpser/cameras/garden/frame that are not a complete JPEG');
    const refusedBig = waitFor<CameraStatus>(source, 'status', (s) => s.lastError?.includes('over the 2.0 MiB limit') === true);
    await device.publishAsync(topics.cameraFrame('garden'), Buffer.alloc(3 * 1024 * 1024, 0xff));
    expect((await refusedBig).lastError).toMatch(/^edge device sent a 3\.0 MiB frame, over the 2\.0 MiB limit/);
    device.end(true);
    expect(await metricValue(metrics.framesRejectedTotal, { camera: 'garden', reason: 'not_jpeg' })).toBe(notJpeg + 1);
    expect(await metricValue(metrics.framesRejectedTotal, { camera: 'garden', reason: 'oversize' })).toBe(oversize + 1);
    const later = await waitFor<Frame>(source, 'frame');
    expect(ffprobeImage(later.jpeg).codec).toBe('mjpeg');
    expect(source.status().state).toBe('online');
  });

  it('replaces a late last will of an earlier session with its current retained state', async () => {
    const states: Array<{ state: string; source?: string }> = [];
    const watch = (topic: string, payload: Buffer) => {
      if (topic === topics.cameraState('garden')) states.push(JSON.parse(payload.toString()) as { state: string; source?: string });
    };
    admin.on('message', watch);
    const will = {
      camera: 'garden',
      state: 'offline',
      fps: 0,
      lastFrameAt: null,
      lastError: 'the edge device lost its connection to the broker',
      restarts: 0,
      source: 'edge',
      updatedAt: new Date().toISOString(),
    };
    // Only the camera's own device (or Glimpser) may publish its state, so the stale will comes from its login.
    const device = await connect(port, { username: DEVICE.username, password: DEVICE.password });
    await device.publishAsync(topics.cameraState('garden'), JSON.stringify(will), { qos: 1, retain: true });
    device.end(true);
    await eventually(async () => (states.some((s) => s.source === 'edge' && s.state === 'online') ? true : undefined), 5000, 'state republished');
    admin.off('message', watch);
    expect(states[0].state).toBe('offline');
  });

  it('exits 0 on SIGTERM, leaves no ffmpeg, and its retained "stopped" state marks the camera offline', async () => {
    const ffmpegs = ffmpegsUnder(edge.proc.pid!);
    expect(ffmpegs.length).toBeGreaterThan(0);
    const offline = waitFor<CameraStatus>(source, 'status', (s) => s.state === 'offline');
    // Exit code 0 means stop() finished: at its 8 s deadline the edge exits 1 ("stop took too long").
    expect((await stopProcess(edge.proc)).code).toBe(0);
    expect(edge.logs.join('')).not.toContain('stop took too long');
    for (const pid of ffmpegs) expect(isAlive(pid)).toBe(false);
    expect((await offline).lastError).toBe('edge device is stopped');
  });

  it('marks a camera offline when its device sends nothing for offlineAfterMs', async () => {
    const silent = new EdgeSource({ camera: 'shed', bus: broker, offlineAfterMs: 300 });
    const offline = waitFor<CameraStatus>(silent, 'status', (s) => s.state === 'offline', 5000);
    silent.start();
    expect(silent.status().state).toBe('connecting');
    expect((await offline).lastError).toMatch(/^no frame from the edge device for 0\.\d s$/);
    await silent.stop();
    expect(silent.status().state).toBe('stopped');
  });

  it("reads the device's retained state when a camera starts listening later", async () => {
    const late = new EdgeSource({ camera: 'garden', bus: broker, offlineAfterMs: 60000 });
    const offline = waitFor<CameraStatus>(late, 'status', (s) => s.state === 'offline', 5000);
    late.start();
    expect((await offline).lastError).toBe('edge device is stopped');
    await late.stop();
  });

  it('has its last will mark the camera offline when the device dies without a goodbye', async () => {
    const crashing = startEdge(['--camera', 'demo', '--broker', `mqtt://127.0.0.1:${port}`, '--id', 'garden', '--username', DEVICE.username, '--fps', '5'], {
      GLIMPSER_EDGE_PASSWORD: DEVICE.password,
    });
    await waitFor<Frame>(source, 'frame');
    const ffmpegs = ffmpegsUnder(crashing.proc.pid!);
    const lost = waitFor<CameraStatus>(source, 'status', (s) => s.state === 'offline');
    await stopProcess(crashing.proc, 'SIGKILL');
    expect((await lost).lastError).toBe('edge device is offline: the edge device lost its connection to the broker');
    for (const pid of ffmpegs) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
});

describe('glimpser edge command line', () => {
  it.each([
    [['--broker', 'mqtt://127.0.0.1:1', '--id', 'garden'], '--camera is required'],
    [['--camera', 'demo', '--broker', 'mqtt://127.0.0.1:1', '--id', 'Not Valid'], '--id: camera id "Not Valid" is invalid'],
    [['--camera', 'demo', '--broker', 'mqtt://user:pw@127.0.0.1:1', '--id', 'garden'], '--broker must not contain a user or password'],
    [['--camera', 'demo', '--broker', 'http://127.0.0.1:1', '--id', 'garden'], '--broker scheme "http:" is not supported'],
    [['--camera', 'demo', '--broker', 'mqtt://127.0.0.1:1', '--id', 'garden', '--fps', 'fast'], '--fps "fast" is invalid'],
    [['--camera', 'demo', '--broker', 'mqtt://127.0.0.1:1', '--id', 'garden', '--username', 'u'], '--username needs a password'],
    [['--camera', 'file:/etc/passwd', '--broker', 'mqtt://127.0.0.1:1', '--id', 'garden'], '--camera scheme "file:" is not allowed'],
    [['--camera', 'demo', '--broker', 'mqtt://127.0.0.1:1', '--id', 'garden', '--password', 'x'], "Unknown option '--password'"],
  ])('exits 2 with one line naming the flag (%j)', (args, expected) => {
    const run = spawnSync(process.execPath, [CLI, 'edge', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(expected);
  });
});

describe('glimpser edge against an external mosquitto broker', () => {
  it('publishes decodable frames and its retained state with a password file, and says stopped on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-mosquitto-'));
    // mosquitto started as root drops to its own user before reading the password file.
    chmodSync(dir, 0o755);
    const port = await freePort();
    const passwords = path.join(dir, 'passwords');
    execFileSync(findTool('mosquitto_passwd'), ['-b', '-c', passwords, 'yard-device', 'yard-secret-pw']);
    chmodSync(passwords, 0o644);
    writeFileSync(path.join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwords}\n`);
    const passwordFile = path.join(dir, 'device-password');
    writeFileSync(passwordFile, 'yard-secret-pw\n', { mode: 0o600 });
    const mosquitto = spawn(findTool('mosquitto'), ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
    let edge: EdgeProcess | null = null;
    let watcher: MqttClient | null = null;
    try {
      watcher = await eventually(
        () => connect(port, { username: 'yard-device', password: 'yard-secret-pw' }).catch(() => undefined),
        10000,
        'mosquitto listening',
      );
      const messages: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];
      watcher.on('message', (topic, payload, packet) => messages.push({ topic, payload, retain: packet.retain }));
      await watcher.subscribeAsync('glimpser/cameras/yard/#');
      edge = startEdge([
        '--camera',
        'demo',
        '--broker',
        `mqtt://127.0.0.1:${port}`,
        '--id',
        'yard',
        '--username',
        'yard-device',
        '--password-file',
        passwordFile,
        '--fps',
        '5',
      ]);
      const frame = await eventually(async () => messages.find((m) => m.topic === 'glimpser/cameras/yard/frame'), 20000, 'a frame via mosquitto');
      expect(ffprobeImage(frame.payload)).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
      const online = await eventually(
        async () =>
          messages
            .map((m) => JSON.parse(m.topic.endsWith('/state') ? m.payload.toString() : 'null') as { state?: string } | null)
            .find((s) => s?.state === 'online'),
        10000,
        'online state',
      );
      expect(online).toMatchObject({ camera: 'yard', source: 'edge', lastError: null });
      const ffmpegs = ffmpegsUnder(edge.proc.pid!);
      expect((await stopProcess(edge.proc)).code).toBe(0);
      for (const pid of ffmpegs) expect(isAlive(pid)).toBe(false);
      const retained = spawnSync(
        findTool('mosquitto_sub'),
        ['-p', String(port), '-u', 'yard-device', '-P', 'yard-secret-pw', '-t', 'glimpser/cameras/yard/state', '-C', '1', '-W', '5'],
        { encoding: 'utf8' },
      );
      expect(JSON.parse(retained.stdout)).toMatchObject({ camera: 'yard', state: 'stopped', source: 'edge' });
    } finally {
      watcher?.end(true);
      if (edge && edge.proc.exitCode === null) await stopProcess(edge.proc, 'SIGKILL');
      await stopProcess(mosquitto);
    }
  });
});
