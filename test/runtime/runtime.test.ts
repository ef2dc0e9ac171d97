import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { apiToken, basic, CLI, descendantsOf, editorLogin, isAlive, startGlimpser, tempDataDir, type RunningGlimpser } from '../support/glimpser-process';
import { expectProblem } from '../support/problem';
import { eventually, ffprobeImage, findTool } from '../support/tools';

/** Collects the first message on each of the given topics, or fails after the timeout. */
function firstMessages(
  url: string,
  options: mqtt.IClientOptions,
  wanted: string[],
  timeoutMs = 20000,
): Promise<Map<string, { payload: Buffer; retain: boolean }>> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { ...options, reconnectPeriod: 0, connectTimeout: 5000 });
    const got = new Map<string, { payload: Buffer; retain: boolean }>();
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`no message on ${wanted.filter((t) => !got.has(t)).join(', ')} within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on('error', (err) => {
      clearTimeout(timer);
      client.end(true);
      reject(err);
    });
    client.on('connect', () => client.subscribe('glimpser/#', { qos: 0 }));
    client.on('message', (topic, payload, packet) => {
      if (wanted.includes(topic) && !got.has(topic)) got.set(topic, { payload, retain: packet.retain });
      if (got.size === wanted.length) {
        clearTimeout(timer);
        client.end(true);
        resolve(got);
      }
    });
  });
}

describe('the Glimpser runtime, booted as its own process on random ports', () => {
  let app: RunningGlimpser;

  beforeAll(async () => {
    app = await startGlimpser();
  });

  afterAll(async () => {
    if (app) await app.stop();
  });

  it('answers /healthz and /readyz without credentials once every part has started', async () => {
    expect((await fetch(`${app.base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, parts: { stores: true, broker: true, http: true, nodeRed: true } });
  });

  it('keeps the generated admin password in a 0600 file and never writes it to the log', () => {
    const mode = statSync(path.join(app.dataDir, 'initial-admin-password')).mode & 0o777;
    expect(mode).toBe(0o600);
    expect(statSync(path.join(app.dataDir, 'secrets.json')).mode & 0o777).toBe(0o600);
    const jsonLogLines = app.logs.filter((l) => l.startsWith('{'));
    expect(jsonLogLines.length).toBeGreaterThan(5);
    expect(jsonLogLines.join('\n')).not.toContain(app.password);
  });

  it('serves /metrics only to signed-in users, and promtool finds the exposition clean', async () => {
    await expectProblem(await fetch(`${app.base}/metrics`), 401, { code: 'unauthorized' });
    const text = await eventually(
      async () => {
        const res = await fetch(`${app.base}/metrics`, { headers: { authorization: basic('admin', app.password) } });
        expect(res.status).toBe(200);
        const body = await res.text();
        return /^glimpser_camera_online\{camera="demo"\} 1$/m.test(body) && /^glimpser_frames_total\{camera="demo"\} [1-9]/m.test(body) ? body : undefined;
      },
      20000,
      'demo camera online with frames in /metrics',
    );
    expect(text).toMatch(/^glimpser_grey_planes_total\{camera="demo"\} [1-9]/m);
    expect(text).toMatch(/^glimpser_camera_online\{camera="demo"\} 1$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    const lint = spawnSync(findTool('promtool'), ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  it('asks for a login at /editor/ and accepts the admin password, refusing a wrong one', async () => {
    const page = await fetch(`${app.base}/editor/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Glimpser</title>');
    expect((await fetch(`${app.base}/editor/flows`)).status).toBe(401);
    const scheme = (await (await fetch(`${app.base}/editor/auth/login`)).json()) as { type: string };
    expect(scheme.type).toBe('credentials');
    const token = async (password: string) =>
      fetch(`${app.base}/editor/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password }),
      });
    expect((await token('not-the-password')).status).toBe(403);
    // One sign-in per second for a username from an address after a failure (issue 12): the right password right
    // away is refused with Retry-After, and accepted once that has passed.
    const early = await token(app.password);
    expect(early.status).toBe(429);
    const retryAfter = Number(early.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    const ok = await token(app.password);
    expect(ok.status).toBe(200);
    const { access_token } = (await ok.json()) as { access_token: string };
    const flows = await fetch(`${app.base}/editor/flows`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(flows.status).toBe(200);
    expect(JSON.stringify(await flows.json())).toContain('"cameraId":"demo"');
  });

  it("runs on Node 22 or newer with Node-RED 5, and says so in the start log, /api/version and the editor's About", async () => {
    const ready = app.logs
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'glimpser ready');
    expect(Number(String(ready?.node).split('.')[0])).toBeGreaterThanOrEqual(22);
    expect(ready?.nodeRed).toMatch(/^5\./);
    const token = await apiToken(app);
    const version = (await (await fetch(`${app.base}/api/version`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, string>;
    expect(version).toEqual({ glimpser: expect.stringMatching(/^\d+\.\d+\.\d+/), node: ready?.node, nodeRed: ready?.nodeRed });
    await expectProblem(await fetch(`${app.base}/api/version`), 401);
    // The editor's About dialog shows the version from its settings (Node-RED adds "-git" inside a git checkout).
    const editorToken = await editorLogin(app);
    const settings = (await (await fetch(`${app.base}/editor/settings`, { headers: { authorization: `Bearer ${editorToken}` } })).json()) as {
      version: string;
    };
    expect(settings.version).toMatch(new RegExp(`^${String(ready?.nodeRed).replace(/\./g, '\\.')}(-git)?$`));
  });

  it('publishes JPEG frames ffprobe can decode and the retained camera state over MQTT (TCP)', async () => {
    const got = await firstMessages(`mqtt://127.0.0.1:${app.mqttPort}`, { username: 'admin', password: app.password }, [
      'glimpser/cameras/demo/frame',
      'glimpser/cameras/demo/state',
      'glimpser/available',
    ]);
    expect(ffprobeImage(got.get('glimpser/cameras/demo/frame')!.payload)).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
    const state = got.get('glimpser/cameras/demo/state')!;
    expect(state.retain).toBe(true);
    expect(JSON.parse(state.payload.toString())).toMatchObject({ camera: 'demo', state: 'online', lastError: null });
    expect(got.get('glimpser/available')!.payload.toString()).toBe('online');
  });

  it('serves MQTT over WebSocket at /mqtt with the same credentials', async () => {
    const got = await firstMessages(`ws://127.0.0.1:${app.httpPort}/mqtt`, { username: 'admin', password: app.password }, ['glimpser/cameras/demo/state']);
    expect(JSON.parse(got.get('glimpser/cameras/demo/state')!.payload.toString()).state).toBe('online');
  });

  it('refuses MQTT clients without credentials or with a wrong password', async () => {
    await expect(firstMessages(`mqtt://127.0.0.1:${app.mqttPort}`, {}, ['glimpser/available'], 5000)).rejects.toThrow(/Not authorized|Bad username|refused/i);
    await expect(
      firstMessages(`mqtt://127.0.0.1:${app.mqttPort}`, { username: 'admin', password: 'wrong-password' }, ['glimpser/available'], 5000),
    ).rejects.toThrow(/Not authorized|Bad username|refused/i);
    // The failure limits admin from this address to one sign-in per second (shared with HTTP and the editor); the
    // right password is accepted again once that has passed.
    await eventually(
      () =>
        firstMessages(`mqtt://127.0.0.1:${app.mqttPort}`, { username: 'admin', password: app.password }, ['glimpser/available'], 5000).then(
          () => true,
          () => undefined,
        ),
      10_000,
      'admin signing in over MQTT again',
    );
  });

  it('lets mosquitto_sub read glimpser/# with the admin password and refuses it without', () => {
    const sub = findTool('mosquitto_sub');
    const withCreds = spawnSync(
      sub,
      ['-h', '127.0.0.1', '-p', String(app.mqttPort), '-u', 'admin', '-P', app.password, '-t', 'glimpser/cameras/demo/state', '-C', '1', '-W', '15'],
      { encoding: 'utf8' },
    );
    expect(withCreds.status).toBe(0);
    expect(JSON.parse(withCreds.stdout).camera).toBe('demo');
    const anonymous = spawnSync(sub, ['-h', '127.0.0.1', '-p', String(app.mqttPort), '-t', 'glimpser/#', '-C', '1', '-W', '5'], { encoding: 'utf8' });
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toMatch(/not authori[sz]ed|bad user name or password|Connection Refused/i);
  });

  it("lists the default flow's capture, ai-summary and retention schedules as jobs with their next runs, and pauses the capture (issue 13)", async () => {
    const token = await apiToken(app);
    const headers = { authorization: `Bearer ${token}` };
    const before = Date.now();
    const { jobs } = (await (await fetch(`${app.base}/api/jobs`, { headers })).json()) as {
      jobs: Array<{ id: string; kind: string; camera: string | null; status: string; nextRunAtMs: number | null; schedule: Record<string, unknown> }>;
    };
    const byId = new Map(jobs.map((job) => [job.id, job]));
    const capture = byId.get('capture.glimpser-demo-capture');
    expect(capture).toMatchObject({
      kind: 'capture',
      camera: 'demo',
      status: expect.stringMatching(/^(idle|running)$/),
      schedule: { kind: 'interval', everyMs: 2000 },
    });
    expect(capture!.nextRunAtMs! - before).toBeLessThanOrEqual(2000 + 1000);
    const summary = byId.get('ai-summary.glimpser-demo-summary');
    expect(summary).toMatchObject({ kind: 'ai-summary', schedule: { kind: 'cron', expression: '0 * * * *' } });
    // The top of the next hour in the machine's zone: whole minutes, within the hour ahead.
    expect(summary!.nextRunAtMs! % 60_000).toBe(0);
    expect(summary!.nextRunAtMs! - before).toBeLessThanOrEqual(3_600_000);
    for (const id of ['retention.journal', 'retention.archive']) expect(byId.get(id)).toMatchObject({ kind: 'retention', schedule: { kind: 'interval' } });

    const pause = await fetch(`${app.base}/api/jobs/capture.glimpser-demo-capture/pause`, { method: 'POST', headers });
    expect(pause.status).toBe(200);
    expect(((await pause.json()) as { job: { status: string; nextRunAtMs: number | null } }).job).toMatchObject({ status: 'paused', nextRunAtMs: null });
    const resume = await fetch(`${app.base}/api/jobs/capture.glimpser-demo-capture/resume`, { method: 'POST', headers });
    expect(((await resume.json()) as { job: { status: string } }).job.status).not.toBe('paused');
  });

  it('requires a signed-in user on /api and issues bearer tokens from /api/auth/login', async () => {
    await expectProblem(await fetch(`${app.base}/api/cameras`), 401);
    const bad = await fetch(`${app.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin' }),
    });
    await expectProblem(bad, 400, { detail: 'body: missing property "password"', field: 'body' });
    const login = await fetch(`${app.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: app.password }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const cameras = await fetch(`${app.base}/api/cameras`, { headers: { authorization: `Bearer ${token}` } });
    expect(cameras.status).toBe(200);
    expect(((await cameras.json()) as { cameras: Array<{ id: string; state: string }> }).cameras).toEqual([
      expect.objectContaining({ id: 'demo', state: 'online' }),
    ]);
    await expectProblem(await fetch(`${app.base}/api/cameras`, { headers: { authorization: `Bearer ${token}x` } }), 401);
  });

  it('serves the live snapshot and MJPEG stream of the demo camera to signed-in users only', async () => {
    await expectProblem(await fetch(`${app.base}/api/cameras/demo/snapshot.jpg`), 401);
    const auth = { authorization: basic('admin', app.password) };
    const snapshot = await fetch(`${app.base}/api/cameras/demo/snapshot.jpg?fresh=1`, { headers: auth });
    expect(snapshot.status).toBe(200);
    expect(ffprobeImage(Buffer.from(await snapshot.arrayBuffer()))).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
    const stream = await fetch(`${app.base}/api/cameras/demo/stream.mjpg`, { headers: auth });
    expect(stream.headers.get('content-type')).toMatch(/^multipart\/x-mixed-replace; boundary=/);
    const reader = stream.body!.getReader();
    let received = Buffer.alloc(0);
    while (received.indexOf(Buffer.from([0xff, 0xd9])) < 0) received = Buffer.concat([received, Buffer.from((await reader.read()).value ?? [])]);
    await reader.cancel();
    expect(received.indexOf(Buffer.from([0xff, 0xd8]))).toBeGreaterThan(0);
    await expectProblem(await fetch(`${app.base}/api/cameras/nope/snapshot.jpg`, { headers: auth }), 404);
  });

  it("records the demo camera's motion in the event journal, on the API and on MQTT, and names a bad query parameter", async () => {
    const auth = { authorization: basic('admin', app.password) };
    const event = await eventually(
      async () => {
        const res = await fetch(`${app.base}/api/events?camera=demo&type=motion`, { headers: auth });
        const body = (await res.json()) as { events: Array<{ id: string; camera: string; hasSnapshot: boolean; zones: string[] }> };
        return body.events[0];
      },
      45000,
      'a motion event from the demo camera',
    );
    expect(event).toMatchObject({ camera: 'demo', hasSnapshot: true });
    const snapshot = await fetch(`${app.base}/api/events/${event.id}/snapshot.jpg`, { headers: auth });
    expect(ffprobeImage(Buffer.from(await snapshot.arrayBuffer())).codec).toBe('mjpeg');
    const got = await firstMessages(`mqtt://127.0.0.1:${app.mqttPort}`, { username: 'admin', password: app.password }, ['glimpser/cameras/demo/motion']);
    expect(['ON', 'OFF']).toContain(got.get('glimpser/cameras/demo/motion')!.payload.toString());
    const bad = await fetch(`${app.base}/api/events?from=yesterday`, { headers: auth });
    await expectProblem(bad, 400, { detail: /^from: expected an ISO 8601 time or milliseconds/, field: 'from' });
    await expectProblem(await fetch(`${app.base}/api/events`), 401);
  }, 60000);

  it('requires a signed-in user on Node-RED HTTP-in routes under /hooks', async () => {
    await expectProblem(await fetch(`${app.base}/hooks/anything`), 401);
    await expectProblem(await fetch(`${app.base}/hooks/anything`, { headers: { authorization: basic('admin', app.password) } }), 404);
  });
});

describe('runtime lifecycle', () => {
  it('exits non-zero with one line naming GLIMPSER_HTTP_PORT when it is not a port', async () => {
    const proc = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? '', GLIMPSER_DATA_DIR: tempDataDir(), GLIMPSER_HTTP_PORT: 'abc' } });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('GLIMPSER_HTTP_PORT');
    expect(stderr).toContain('expected an integer from 0 to 65535');
  });

  it('on SIGTERM publishes offline, stops every ffmpeg it started and exits 0 before its 9 s stop deadline', async () => {
    const app = await startGlimpser();
    const children = descendantsOf(app.proc.pid!);
    const ffmpegs = children.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('ffmpeg') || readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
      } catch {
        return false;
      }
    });
    expect(ffmpegs.length).toBeGreaterThan(0);
    const watcher = mqtt.connect(`mqtt://127.0.0.1:${app.mqttPort}`, { username: 'admin', password: app.password, reconnectPeriod: 0 });
    const availability: string[] = [];
    await new Promise<void>((resolve) => watcher.on('connect', () => watcher.subscribe('glimpser/available', () => resolve())));
    watcher.on('message', (_t, payload) => availability.push(payload.toString()));
    const { code } = await app.stop();
    watcher.end(true);
    // Exit code 0 means stop() finished: at its 9 s deadline the runtime exits 1 ("stop took longer than 9 s").
    expect(code).toBe(0);
    expect(app.logs.join('\n')).not.toContain('stop took longer');
    expect(availability).toContain('offline');
    for (const pid of children) expect(isAlive(pid)).toBe(false);
  });

  it('keeps a flow edited through the editor API across a restart, without re-seeding the defaults', async () => {
    const dataDir = tempDataDir();
    const first = await startGlimpser(dataDir);
    const tokenRes = await fetch(`${first.base}/editor/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password: first.password }),
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const editor = { authorization: `Bearer ${access_token}`, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' };
    const flows = (await (await fetch(`${first.base}/editor/flows`, { headers: editor })).json()) as Array<Record<string, unknown>>;
    const capture = flows.find((n) => n.type === 'capture')!;
    capture.interval = 7;
    capture.name = 'edited by a user';
    const deploy = await fetch(`${first.base}/editor/flows`, { method: 'POST', headers: editor, body: JSON.stringify(flows) });
    expect(deploy.status).toBe(204);
    expect((await first.stop()).code).toBe(0);

    const second = await startGlimpser(dataDir, { GLIMPSER_ADMIN_PASSWORD: first.password });
    const token2 = (await (
      await fetch(`${second.base}/editor/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password: first.password }),
      })
    ).json()) as { access_token: string };
    const after = (await (await fetch(`${second.base}/editor/flows`, { headers: { authorization: `Bearer ${token2.access_token}` } })).json()) as Array<
      Record<string, unknown>
    >;
    expect(after.find((n) => n.id === capture.id)).toMatchObject({ name: 'edited by a user', interval: 7 });
    // Not seeded again: the same nodes as deployed, none added.
    expect(after.map((n) => n.id).sort()).toEqual(flows.map((n) => n.id).sort());
    expect((await second.stop()).code).toBe(0);
  });
});
