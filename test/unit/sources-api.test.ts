import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { register } from 'prom-client';
import type { TObject } from '@sinclair/typebox';
import { BrowserPoolLease } from '../../core/capture/browser-lease';
import { CameraRegistry } from '../../core/capture/registry';
import { silentLogger } from '../../core/log/logger';
import { readNodeConfig, type NodeConfigSpec } from '../../nodes/shared/config';
import { sourcesRouter, type FlowsApi } from '../../runtime/api/sources';
import { cameraIdFor, loadTemplates, parseTemplate, TEMPLATE_ENV, type FlowNode } from '../../runtime/sources/templates';
import pkg from '../../package.json';
import { signedInAs } from '../support/api-auth';
import { expectProblem } from '../support/problem';
import { findTool, freePort } from '../support/tools';

const ROOT = path.join(__dirname, '..', '..');
const TEMPLATES = path.join(ROOT, 'flows', 'templates');
const FFMPEG = findTool('ffmpeg');

/** Node-RED's runtime flows API as far as the routes use it, in memory: addFlow puts z on every node as Node-RED does. */
class MemoryFlows implements FlowsApi {
  flows: FlowNode[] = [
    { id: 'demo-tab', type: 'tab', label: 'Demo camera' },
    { id: 'demo-cam', type: 'glimpser-camera', cameraId: 'driveway' },
  ];
  private next = 0;
  getFlows(): Promise<{ rev: string; flows: FlowNode[] }> {
    return Promise.resolve({ rev: String(this.next), flows: structuredClone(this.flows) });
  }
  addFlow({ flow }: Parameters<FlowsApi['addFlow']>[0]): Promise<string> {
    const id = `tab${(this.next += 1)}`;
    this.flows.push({ id, type: 'tab', label: flow.label, info: flow.info, env: flow.env }, ...flow.nodes.map((n) => ({ ...n, z: id })));
    return Promise.resolve(id);
  }
  deleteFlow({ id }: { id: string }): Promise<void> {
    this.flows = this.flows.filter((n) => n.id !== id && n.z !== id);
    return Promise.resolve();
  }
}

const flows = new MemoryFlows();
const jpeg = execFileSync(FFMPEG, [
  '-v',
  'error',
  '-f',
  'lavfi',
  '-i',
  'testsrc=size=320x240',
  '-frames:v',
  '1',
  '-f',
  'image2pipe',
  '-c:v',
  'mjpeg',
  'pipe:1',
]);
const mediaDir = mkdtempSync(path.join(tmpdir(), 'glimpser-sources-media-'));
const testHandles = () => ({ cameras: new CameraRegistry(), ffmpegPath: FFMPEG, mediaDir, browsers: new BrowserPoolLease(), logger: silentLogger });
let server: Server;
let camera: Server;
let base: string;
let cameraBase: string;

beforeAll(async () => {
  const app = express();
  app.use('/api', sourcesRouter({ flows: () => flows, handles: testHandles, log: silentLogger, auth: signedInAs('admin'), testDeadlineMs: 8000 }));
  server = app.listen(0, '127.0.0.1');
  // A snapshot camera on loopback that wants user "cam", password "secret" (HTTP Basic).
  camera = createServer((req, res) => {
    const expected = `Basic ${Buffer.from('cam:secret').toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="camera"' }).end();
      return;
    }
    if (req.url === '/page.html') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>hello</p>');
    else res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(jpeg);
  }).listen(0, '127.0.0.1');
  await Promise.all([server, camera].map((s) => new Promise((resolve) => s.once('listening', resolve))));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  cameraBase = `http://127.0.0.1:${(camera.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of [server, camera]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

function post(url: string, body: unknown): Promise<Response> {
  return fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('the template files', () => {
  const files = readdirSync(TEMPLATES).filter((f) => f.endsWith('.json'));
  const specs = new Map<string, NodeConfigSpec<TObject>>();
  beforeAll(async () => {
    for (const type of Object.keys(pkg['node-red'].nodes)) {
      const module = (await import(`../../nodes/${type}/schema`)) as Record<string, unknown>;
      specs.set(
        type,
        Object.values(module).find((v): v is NodeConfigSpec<TObject> => (v as NodeConfigSpec<TObject> | undefined)?.type === type)!,
      );
    }
  });

  it('are one per source kind the issue names', () => {
    expect(loadTemplates(TEMPLATES).map((t) => t.camera.source)).toEqual(expect.arrayContaining(['url', 'file', 'ytdlp', 'website', 'image', 'edge']));
  });

  it.each(files)('%s: one tab, valid node settings, camera → motion → switch → ai-describe → rule-gate → event → cap-alert', (file) => {
    const template = parseTemplate(file, JSON.parse(readFileSync(path.join(TEMPLATES, file), 'utf8')));
    for (const node of template.nodes) {
      const spec = specs.get(node.type);
      if (spec) expect(() => readNodeConfig(spec, node)).not.toThrow();
    }
    const byId = new Map(template.nodes.map((n) => [n.id, n]));
    const motion = template.nodes.find((n) => n.type === 'motion')!;
    expect(motion.camera).toBe(template.camera.id);
    expect(motion.mode).toBe(template.camera.source === 'website' ? 'scene' : 'video');
    const chain = ['motion'];
    let at: FlowNode | undefined = motion;
    const next = (node: FlowNode, port: number) => byId.get(node.wires![port][0]);
    at = next(at, 1);
    chain.push(at!.type);
    at = next(at!, 0);
    chain.push(at!.type);
    for (let i = 0; i < 3; i += 1) {
      at = next(at!, 0);
      chain.push(at!.type);
    }
    expect(chain).toEqual(['motion', 'switch', 'ai-describe', 'rule-gate', 'event', 'cap-alert']);
    // Secrets are fields of the credentials block only: no default may hold one.
    expect(JSON.stringify(template.nodes)).not.toMatch(/"(username|password)"\s*:/);
  });

  it.each(files)('%s is the same file in examples/templates (what the editor imports)', (file) => {
    expect(readFileSync(path.join(ROOT, 'examples', 'templates', file), 'utf8')).toBe(readFileSync(path.join(TEMPLATES, file), 'utf8'));
  });

  it('and examples/templates holds no other file', () => {
    expect(readdirSync(path.join(ROOT, 'examples', 'templates')).sort()).toEqual(files.sort());
  });
});

describe('GET /api/sources/templates', () => {
  it('lists each template with the fields it asks for', async () => {
    const res = await fetch(`${base}/sources/templates`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as Array<{ id: string; fields: Array<{ key: string; schemes?: string[] }> }>;
    const rtsp = list.find((t) => t.id === 'rtsp-camera')!;
    expect(rtsp.fields.map((f) => f.key)).toEqual(['name', 'url', 'username', 'password']);
    expect(rtsp.fields[1].schemes).toEqual(['rtsp', 'rtsps', 'http', 'https']);
    expect(list.find((t) => t.id === 'video-file')!.fields.map((f) => f.key)).toEqual(['name', 'path']);
  });
});

describe('POST /api/sources/test refuses what the template cannot take, naming the field', () => {
  it.each([
    ['an unknown template', { template: 'nope', fields: { name: 'A' } }, /^template: no template "nope"/],
    ['a missing name', { template: 'rtsp-camera', fields: { url: 'rtsp://192.0.2.1/s' } }, /^fields\.name: Name is required/],
    ['a missing URL', { template: 'rtsp-camera', fields: { name: 'Gate' } }, /^fields\.url: Stream address is required/],
    ['a scheme the kind cannot read', { template: 'website', fields: { name: 'W', url: 'rtsp://192.0.2.1/s' } }, /^fields\.url: rtsp:\/\/ is not allowed/],
    ['a file URL', { template: 'rtsp-camera', fields: { name: 'W', url: 'file:///etc/passwd' } }, /^fields\.url: file:\/\/ is not allowed/],
    ['not a URL', { template: 'snapshot-url', fields: { name: 'W', url: 'camera.local' } }, /^fields\.url: "camera\.local" is not a URL/],
    ['a password in the URL', { template: 'rtsp-camera', fields: { name: 'W', url: 'rtsp://u:p@192.0.2.1/s' } }, /^fields\.url: holds a username or password/],
    [
      'a name too long',
      { template: 'rtsp-camera', fields: { name: 'x'.repeat(65), url: 'rtsp://192.0.2.1/s' } },
      /^fields\.name: Name is 65 characters long: at most 64/,
    ],
    [
      'control characters',
      { template: 'rtsp-camera', fields: { name: 'a\u0007b', url: 'rtsp://192.0.2.1/s' } },
      /^fields\.name: Name contains control characters/,
    ],
    [
      'a field the template has not',
      { template: 'video-file', fields: { name: 'C', path: 'a.mp4', url: 'http://x/' } },
      /^fields\.url: Video file has no such field/,
    ],
    [
      'a path leaving the media folder',
      { template: 'video-file', fields: { name: 'C', path: '../etc/passwd' } },
      /^fields\.path: expected a path inside the media folder/,
    ],
    ['a password without a username', { template: 'rtsp-camera', fields: { name: 'C', url: 'rtsp://192.0.2.1/s', password: 'p' } }, /^fields\.username:/],
    ['an unknown body field', { template: 'rtsp-camera', fields: { name: 'C', colour: 'red' } }, /^body\.fields: unknown property "colour"/],
  ])('%s', async (_what, body, detail) => {
    await expectProblem(await post('/sources/test', body), 400, { code: 'invalid_request', detail });
    expect(flows.flows.filter((n) => n.type === 'tab')).toHaveLength(1);
  });

  it.each([
    ['a cloud metadata address', 'website', 'http://169.254.169.254/latest/meta-data/'],
    ['a metadata host name', 'snapshot-url', 'http://metadata.google.internal/computeMetadata/v1/'],
    ['an http camera on a link-local address', 'rtsp-camera', 'http://169.254.10.2/video.mjpg'],
  ])('%s is blocked by the URL policy', async (_what, template, url) => {
    await expectProblem(await post('/sources/test', { template, fields: { name: 'X', url } }), 400, { detail: /^fields\.url: blocked by the URL policy: / });
  });
});

describe('POST /api/sources/test fetches one picture, or says why not', () => {
  it('answers the picture of a snapshot camera, with its username and password', async () => {
    const res = await post('/sources/test', {
      template: 'snapshot-url',
      fields: { name: 'Garage', url: `${cameraBase}/snap.jpg`, username: 'cam', password: 'secret' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    // A test is not a camera: no series of it stays behind to raise CameraOffline.
    expect(await register.metrics()).not.toContain('camera="source-test"');
  }, 20000);

  it('a wrong password: "401 from the camera", and the password is not in the answer', async () => {
    const res = await post('/sources/test', {
      template: 'snapshot-url',
      fields: { name: 'Garage', url: `${cameraBase}/snap.jpg`, username: 'cam', password: 'wrong-pw' },
    });
    const problem = await expectProblem(res, 502, { code: 'no_frame', detail: /^401 from the camera: the username or password is wrong/ });
    expect(problem.detail).not.toContain('wrong-pw');
  }, 20000);

  it('a page that is not a picture: "not a video"', async () => {
    const res = await post('/sources/test', {
      template: 'snapshot-url',
      fields: { name: 'G', url: `${cameraBase}/page.html`, username: 'cam', password: 'secret' },
    });
    await expectProblem(res, 502, { detail: /^not a video: / });
  }, 20000);

  it('a closed port: "connection refused"', async () => {
    const res = await post('/sources/test', { template: 'rtsp-camera', fields: { name: 'G', url: `rtsp://127.0.0.1:${await freePort()}/live` } });
    await expectProblem(res, 502, { detail: /^connection refused: / });
  }, 20000);

  it('a host that does not resolve: "DNS failure"', async () => {
    const res = await post('/sources/test', { template: 'snapshot-url', fields: { name: 'G', url: 'http://no-such-camera.invalid/snap.jpg' } });
    await expectProblem(res, 502, { detail: /^DNS failure: / });
  }, 20000);

  it('a file outside the media folder names the path field', async () => {
    const res = await post('/sources/test', { template: 'video-file', fields: { name: 'Clip', path: 'no-such-clip.mp4' } });
    await expectProblem(res, 400, { code: 'invalid_request', detail: /^fields\.path: / });
  });

  it('a camera that accepts the connection and never answers: "timeout" at the deadline', async () => {
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const app = express().use(
      '/api',
      sourcesRouter({ flows: () => flows, handles: testHandles, log: silentLogger, auth: signedInAs('admin'), testDeadlineMs: 1500 }),
    );
    const quick = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => quick.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(quick.address() as AddressInfo).port}/api/sources/test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ template: 'snapshot-url', fields: { name: 'G', url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/snap.jpg` } }),
      });
      await expectProblem(res, 502, { code: 'no_frame', detail: 'timeout: no picture within 2 s' });
    } finally {
      for (const s of [quick, silent]) {
        s.closeAllConnections();
        await new Promise((resolve) => s.close(resolve));
      }
    }
  }, 20000);

  it('an edge device cannot be tested before it is added', async () => {
    await expectProblem(await post('/sources/test', { template: 'edge-device', fields: { name: 'Shed', username: 'shed', password: 'pw-123456' } }), 422, {
      detail: /edge device sends its frames itself/,
    });
  });
});

describe('POST, GET and DELETE /api/sources', () => {
  it('adds a tab from the template with fresh ids, the credentials in the credentials block, and a camera id from the name', async () => {
    const res = await post('/sources', {
      template: 'rtsp-camera',
      fields: { name: 'Driveway', url: 'rtsp://192.0.2.10:554/live', username: 'viewer', password: 'pw-secret' },
    });
    expect(res.status).toBe(201);
    const added = (await res.json()) as { id: string; camera: string; label: string };
    expect(added).toMatchObject({ label: 'Driveway', camera: 'driveway-2' });
    const nodes = flows.flows.filter((n) => n.z === added.id);
    const camera = nodes.find((n) => n.type === 'glimpser-camera')!;
    expect(camera).toMatchObject({
      cameraId: 'driveway-2',
      name: 'Driveway',
      url: 'rtsp://192.0.2.10:554/live',
      credentials: { username: 'viewer', password: 'pw-secret' },
    });
    const template = JSON.parse(readFileSync(path.join(TEMPLATES, '01-rtsp-camera.json'), 'utf8')) as FlowNode[];
    const templateIds = new Set(template.map((n) => n.id));
    const ids = new Set(nodes.map((n) => n.id));
    expect(nodes.every((n) => !templateIds.has(n.id))).toBe(true);
    for (const node of nodes) for (const port of node.wires ?? []) for (const target of port) expect(ids.has(target)).toBe(true);
    expect(nodes.find((n) => n.type === 'motion')!.camera).toBe(camera.id);
    expect(JSON.stringify(nodes.filter((n) => n !== camera))).not.toContain('pw-secret');
    const tab = flows.flows.find((n) => n.id === added.id)!;
    expect(tab.env).toEqual([{ name: TEMPLATE_ENV, type: 'str', value: 'rtsp-camera' }]);
  });

  it('uses an AI node shared by every tab when there is one', async () => {
    flows.flows.push({ id: 'shared-ai', type: 'glimpser-ai', name: 'AI' });
    const res = await post('/sources', { template: 'video-file', fields: { name: 'Clip', path: 'clip.mp4' } });
    const { id } = (await res.json()) as { id: string };
    const nodes = flows.flows.filter((n) => n.z === id);
    expect(nodes.some((n) => n.type === 'glimpser-ai')).toBe(false);
    expect(nodes.find((n) => n.type === 'ai-describe')!.ai).toBe('shared-ai');
  });

  it('lists the tabs made from templates, and removes one; other tabs cannot be removed here', async () => {
    const list = (await (await fetch(`${base}/sources`)).json()) as Array<{ id: string; template: string; camera: string }>;
    expect(list.map((s) => [s.template, s.camera])).toEqual([
      ['rtsp-camera', 'driveway-2'],
      ['video-file', 'clip'],
    ]);
    expect((await fetch(`${base}/sources/${list[0].id}`, { method: 'DELETE' })).status).toBe(204);
    expect(flows.flows.some((n) => n.z === list[0].id || n.id === list[0].id)).toBe(false);
    await expectProblem(await fetch(`${base}/sources/demo-tab`, { method: 'DELETE' }), 404, { code: 'not_found' });
    await expectProblem(await fetch(`${base}/sources/a%2Fb`, { method: 'DELETE' }), 400, { code: 'invalid_request' });
  });
});

it('camera ids come from names and never repeat', () => {
  expect(cameraIdFor('Front Door (north)', new Set())).toBe('front-door-north');
  expect(cameraIdFor('Front door', new Set(['front-door', 'front-door-2']))).toBe('front-door-3');
  expect(cameraIdFor('★★★', new Set())).toBe('camera');
});
