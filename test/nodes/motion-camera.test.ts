import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Frame } from '../../core/frames/frame';
import cameraNode from '../../nodes/glimpser-camera/glimpser-camera';
import motionNode from '../../nodes/motion/motion';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import type { EmbeddedBroker } from '../../runtime/broker';
import { loggedErrors, type Msg } from '../support/flow';
import { glimpserHandles, helper, type FlowNode } from '../support/node-red-helper';
import { eventually, ffprobeImage, findTool } from '../support/tools';

/** 2 s of a still scene, a box crossing it for 1.5 s, then 3 s still again: 320x180 at 10 fps. */
function makeClip(dir: string): string {
  const clip = path.join(dir, 'crossing.mp4');
  execFileSync(findTool('ffmpeg'), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'smptehdbars=size=320x180:rate=10:duration=6.5',
    '-f',
    'lavfi',
    '-i',
    'color=c=0xff8800:size=60x60:rate=10:duration=6.5',
    '-filter_complex',
    "[0:v][1:v]overlay=x='if(between(t,2,3.5),(t-2)/1.5*(W-w),W)':y=60:eval=frame",
    '-c:v',
    'libx264',
    '-g',
    '10',
    '-pix_fmt',
    'yuv420p',
    clip,
  ]);
  return clip;
}

describe('motion node reading its camera directly', () => {
  let broker: EmbeddedBroker;
  let handles: GlimpserHandles;
  let media: string;
  let clip: string;

  beforeAll(async () => {
    media = mkdtempSync(path.join(tmpdir(), 'glimpser-media-'));
    clip = makeClip(media);
    ({ broker, handles } = await glimpserHandles(media));
    helper.settings({ glimpser: handles });
  });

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    await broker.close();
    rmSync(media, { recursive: true, force: true });
  });

  const flow = (motion: Record<string, unknown> = {}): FlowNode[] => [
    {
      id: 'cam',
      type: 'glimpser-camera',
      version: 2,
      name: 'Clip',
      cameraId: 'clip',
      source: 'file',
      path: clip,
      loop: false,
      width: 320,
      height: 180,
      fps: 10,
      quality: 5,
      offlineAfter: 5,
    },
    {
      id: 'detector',
      type: 'motion',
      version: 1,
      input: 'camera',
      camera: 'cam',
      minDuration: 0.2,
      quiet: 1,
      tamper: false,
      publish: false,
      wires: [['frames'], ['events']],
      ...motion,
    },
    { id: 'frames', type: 'helper' },
    { id: 'events', type: 'helper' },
  ];

  it('finds the crossing on grey planes, asks for JPEGs only while it lasts, and sends the event with its picture', async () => {
    const events: Msg[] = [];
    const frames: Msg[] = [];
    await helper.load([cameraNode, motionNode], flow());
    helper.getNode('events').on('input', (msg: Msg) => events.push(msg));
    helper.getNode('frames').on('input', (msg: Msg) => frames.push(msg));
    // Watches every JPEG the camera makes, without asking for any.
    const made: Frame[] = [];
    const camera = handles.cameras.get('clip')!;
    const detach = camera.attach({ onFrame: (frame) => made.push(frame), onStatus: () => undefined, continuousJpeg: false });
    const startedAt = Date.now();
    try {
      await eventually(
        async () => (events.some((e) => (e.event as { phase: string }).phase === 'end') ? true : undefined),
        15000,
        'the end of the motion event',
      );
    } finally {
      await detach();
    }

    const phases = events.map((e) => (e.event as { phase: string }).phase);
    expect(phases[0]).toBe('start');
    expect(phases[phases.length - 1]).toBe('end');
    expect(phases.filter((p) => p === 'start')).toHaveLength(1);
    const start = events[0];
    expect(ffprobeImage(start.payload as Buffer)).toEqual({ codec: 'mjpeg', width: 320, height: 180 });
    expect(start.event).toMatchObject({ camera: 'clip', type: 'motion' });
    const motionStart = (start.event as { startTime: number }).startTime;
    // The still first 2 s made no JPEG: the camera was asked for them once motion began.
    expect(motionStart - startedAt).toBeGreaterThan(1500);
    expect(made.filter((frame) => frame.meta.timestamp < motionStart - 300)).toEqual([]);
    expect(made.length).toBeGreaterThanOrEqual(5);
    // ...and stopped making them once the event was over.
    const endTime = (events[events.length - 1].event as { endTime: number }).endTime;
    expect(made.filter((frame) => frame.meta.timestamp > endTime + 1000)).toEqual([]);
    // The first output carries the JPEGs made during motion, with the result of the latest plane.
    expect(frames.length).toBeGreaterThan(0);
    for (const msg of frames) expect(msg.motion).toEqual(expect.objectContaining({ motion: expect.any(Boolean) }));
  }, 30000);

  it('refuses wired frames while it reads a camera, and needs a camera to read', async () => {
    await helper.load([cameraNode, motionNode], [...flow(), { id: 'lonely', type: 'motion', version: 1, input: 'camera', camera: '', wires: [[], []] }]);
    expect(loggedErrors('lonely').some((m) => /no camera is selected/.test(m))).toBe(true);
    helper.getNode('detector').receive({ payload: Buffer.from([0xff, 0xd8, 0xff]) });
    await eventually(async () => (loggedErrors('detector').some((m) => /reads camera clip directly/.test(m)) ? true : undefined), 5000, 'the refusal');
  });
});
