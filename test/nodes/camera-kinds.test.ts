import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { checkFrameMessage, type FrameMessage } from '../../core/messages';
import captureNode from '../../nodes/capture/capture';
import cameraNode from '../../nodes/glimpser-camera/glimpser-camera';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import type { EmbeddedBroker } from '../../runtime/broker';
import { descendantsOf } from '../support/glimpser-process';
import { nextMessage } from '../support/flow';
import { MjpegTestServer } from '../support/mjpeg-server';
import { glimpserHandles, helper, type FlowNode } from '../support/node-red-helper';
import { eventually, ffprobeImage } from '../support/tools';

const sink: FlowNode = { id: 'out', type: 'helper' };
const camera = (overrides: Record<string, unknown>): FlowNode => ({
  id: 'cam',
  type: 'glimpser-camera',
  version: 2,
  name: 'Kind test',
  cameraId: 'kind-test',
  offlineAfter: 10,
  ...overrides,
});
const capture = (overrides: Record<string, unknown> = {}): FlowNode => ({
  id: 'cap',
  type: 'capture',
  version: 2,
  camera: 'cam',
  mode: 'continuous',
  fps: 5,
  timeout: 20,
  publish: true,
  wires: [['out']],
  ...overrides,
});

/** The next frame the sink receives. */
async function nextFrame(timeoutMs = 20000): Promise<FrameMessage> {
  return checkFrameMessage(await nextMessage('out', timeoutMs));
}

function processesNamed(...names: string[]): number[] {
  return descendantsOf(process.pid).filter((pid) => {
    try {
      return names.includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
    } catch {
      return false;
    }
  });
}

describe('glimpser-camera kinds in a flow', () => {
  let broker: EmbeddedBroker;
  let handles: GlimpserHandles;
  let mqttPort: number;

  beforeAll(async () => {
    ({ broker, handles } = await glimpserHandles());
    mqttPort = await broker.listenTcp('127.0.0.1', 0);
    helper.settings({ glimpser: handles });
  });

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    await handles.browsers.close();
    await broker.close();
  });

  it('edge: frames a device publishes with its own credentials come out of the capture node and are not republished', async () => {
    await helper.load([cameraNode, captureNode], [camera({ source: 'edge' }), capture(), sink], {
      cam: { username: 'shed-device', password: 'device-secret-1' },
    });
    const frames = new MjpegTestServer({ width: 320, height: 240 });
    await frames.start();
    const jpeg = Buffer.from(await (await fetch(frames.url('/snapshot.jpg'))).arrayBuffer());
    await frames.stop();
    let republished = 0;
    const unsubscribe = await broker.subscribe('glimpser/cameras/kind-test/frame', () => (republished += 1));
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'shed-device', password: 'device-secret-1', reconnectPeriod: 0 });
    const received = nextFrame();
    await device.publishAsync('glimpser/cameras/kind-test/frame', jpeg);
    const msg = await received;
    expect(msg.payload.equals(jpeg)).toBe(true);
    expect(msg.frame).toMatchObject({ camera: 'kind-test', width: 320, height: 240 });
    expect(republished).toBe(1);
    await device.endAsync();
    await unsubscribe();
  });

  it('edge: refuses to start without device credentials, naming what is missing', async () => {
    await helper.load([cameraNode, captureNode], [camera({ source: 'edge' }), capture(), sink]);
    const errors = helper
      .log()
      .args.map((a: unknown[]) => a[0] as { level: number; id: string; msg: unknown })
      .filter((m) => m.id === 'cam' && m.level === 20);
    expect(String(errors[0]?.msg)).toMatch(/edge cameras need a username and password for the device/);
  });

  it('image: a snapshot URL becomes frames of the configured size', async () => {
    const server = new MjpegTestServer({ width: 320, height: 240 });
    await server.start();
    try {
      await helper.load(
        [cameraNode, captureNode],
        [camera({ source: 'image', url: server.url('/snapshot.jpg'), every: 0.5, width: 320, height: 240 }), capture(), sink],
      );
      const msg = await nextFrame();
      expect(ffprobeImage(msg.payload)).toEqual({ codec: 'mjpeg', width: 320, height: 240 });
    } finally {
      await server.stop();
    }
  });

  it('website: a page becomes a frame of the viewport size, and a redeploy leaves no browser running', async () => {
    const page: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><html><body style="margin:0;background:#2a6"><h1>Glimpser</h1></body></html>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
      await helper.load(
        [cameraNode, captureNode],
        [camera({ source: 'website', url, every: 30, width: 480, height: 320 }), capture({ mode: 'on-demand' }), sink],
      );
      const answer = nextFrame(60000);
      helper.getNode('cap').receive({});
      expect(ffprobeImage((await answer).payload)).toEqual({ codec: 'mjpeg', width: 480, height: 320 });
      expect(processesNamed('chromium', 'chrome', 'chromedriver').length).toBeGreaterThan(0);
      await helper.unload();
      await eventually(async () => (processesNamed('chromium', 'chrome', 'chromedriver').length === 0 ? true : undefined), 15000, 'no browser left');
    } finally {
      page.closeAllConnections();
      await new Promise((resolve) => page.close(resolve));
    }
  }, 90000);
});
