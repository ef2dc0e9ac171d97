import type { Node } from 'node-red';
import type { GreyFrame, MotionResult } from '../../core/motion/detector';
import { jpegToGrey } from '../../core/motion/grey';
import { MotionEventTracker, type MotionTransition } from '../../core/motion/lifecycle';
import { SceneChangeDetector } from '../../core/motion/scene-change';
import { TamperDetector, type TamperEvent } from '../../core/motion/tamper';
import { VideoMotionDetector } from '../../core/motion/video-motion';
import { assertCameraId, type FrameMeta } from '../../core/frames/frame';
import { topics } from '../../core/topics';
import type { GlimpserHandles } from '../shared/handles';
import { statusOf } from '../shared/node-kit';
import type { MotionSettings } from './schema';

/** Rows of the grey picture motion is judged on (Frigate works at 180; Glimpser's default camera is 360 rows). */
const GREY_HEIGHT = 120;
/** Updates of an ongoing event are sent at most this often: the journal and MQTT need the best frame, not every one. */
const UPDATE_EVERY_MS = 1000;

export interface LifecycleEvent {
  /** Stable for the event's life, so the event node can update what it inserted. */
  key: string;
  phase: 'start' | 'update' | 'end';
  camera: string;
  type: 'motion' | 'tamper';
  subtype?: string;
  startTime: number;
  endTime: number | null;
  score: number;
  boxes: MotionResult['boxes'];
  zones: string[];
}

interface BestFrame {
  jpeg: Buffer;
  meta: FrameMeta;
}

/** What one camera's frames have taught this node: detectors keep per-camera state. */
interface CameraState {
  video?: VideoMotionDetector;
  scene?: SceneChangeDetector;
  tamper?: TamperDetector;
  tracker: MotionEventTracker<BestFrame>;
  lastUpdateSent: number;
  motionOn: boolean;
}

export type Send = (msgs: Array<Record<string, unknown> | null>) => void;

/**
 * The behaviour of a motion node: frames in, every frame out with `msg.motion`, and motion / tamper / scene-change
 * events with a start → update → end lifecycle on the second output.
 */
export class MotionController {
  private readonly cameras = new Map<string, CameraState>();

  constructor(private readonly node: Node, private readonly settings: MotionSettings, private readonly handles: GlimpserHandles) {}

  async onFrame(msg: Record<string, unknown>, send: Send): Promise<void> {
    const jpeg = msg.payload;
    const meta = msg.frame as FrameMeta | undefined;
    if (!Buffer.isBuffer(jpeg)) throw new Error('msg.payload must be a JPEG Buffer (a frame message from a capture node)');
    const camera = assertCameraId(meta?.camera ?? 'unknown');
    const timestamp = typeof meta?.timestamp === 'number' ? meta.timestamp : Date.now();
    const grey = await jpegToGrey(jpeg, GREY_HEIGHT, { timestamp, sequence: meta?.sequence });
    const state = this.stateFor(camera);
    const best: BestFrame = { jpeg, meta: meta ?? { camera, timestamp, sequence: 0, width: grey.width, height: grey.height, bytes: jpeg.length } };
    const events: Array<Record<string, unknown>> = [];
    const result = this.settings.mode === 'scene' ? this.sceneResult(state, grey) : state.video!.detect(grey);
    for (const transition of state.tracker.feed(result, timestamp, best)) {
      const out = this.lifecycleMessage(camera, transition);
      if (out) events.push(out);
    }
    for (const tamper of state.tamper?.update(grey) ?? []) events.push(this.tamperMessage(camera, tamper, best));
    send([{ ...msg, motion: result }, null]);
    for (const event of events) send([null, event]);
    this.showStatus(camera, result, state);
  }

  private stateFor(camera: string): CameraState {
    let state = this.cameras.get(camera);
    if (state) return state;
    const regions = { masks: this.settings.maskPolygons, zones: this.settings.zoneList };
    state = {
      tracker: new MotionEventTracker<BestFrame>({ minDurationMs: this.settings.minDuration * 1000, quietMs: this.settings.quiet * 1000, camera }),
      lastUpdateSent: 0,
      motionOn: false,
    };
    if (this.settings.mode === 'scene') {
      state.scene = new SceneChangeDetector({ ...regions, threshold: this.settings.sceneThreshold, camera, logger: this.handles.logger });
    } else {
      state.video = new VideoMotionDetector({
        ...regions,
        threshold: this.settings.threshold,
        minArea: this.settings.minArea / 100,
        camera,
        logger: this.handles.logger,
        onReset: (reset) => this.node.warn(`camera ${camera}: frame size changed from ${reset.from.width}×${reset.from.height} to ${reset.to.width}×${reset.to.height}; motion detection starts over`),
      });
      if (this.settings.tamper) state.tamper = new TamperDetector({ camera });
    }
    this.cameras.set(camera, state);
    return state;
  }

  /** A scene change is a one-frame "motion" so that it flows through the same lifecycle as video motion. */
  private sceneResult(state: CameraState, grey: GreyFrame): MotionResult {
    const change = state.scene!.compare(grey);
    return { motion: change.changed && change.reason === 'content', boxes: [], changedFraction: change.difference, zones: change.changedZones, calibrating: change.reason === 'first', score: change.difference };
  }

  private lifecycleMessage(camera: string, transition: MotionTransition<BestFrame>): Record<string, unknown> | null {
    const { event, type } = transition;
    const state = this.cameras.get(camera)!;
    const now = event.lastMotionAt;
    if (type === 'update' && now - state.lastUpdateSent < UPDATE_EVERY_MS) return null;
    state.lastUpdateSent = now;
    if (type !== 'update') this.publishMotion(camera, type === 'start', state);
    const lifecycle: LifecycleEvent = {
      key: `${this.node.id}:${camera}:${this.settings.mode === 'scene' ? 'scene' : 'motion'}:${event.id}:${event.startedAt}`,
      phase: type,
      camera,
      type: 'motion',
      subtype: this.settings.mode === 'scene' ? 'scene_change' : undefined,
      startTime: event.startedAt,
      endTime: event.endedAt,
      score: Math.min(1, Math.max(0, event.maxScore)),
      boxes: event.best.boxes,
      zones: event.zones,
    };
    return { topic: `cameras/${camera}/motion`, payload: event.best.frame.jpeg, frame: event.best.frame.meta, event: lifecycle };
  }

  private tamperMessage(camera: string, tamper: TamperEvent, frame: BestFrame): Record<string, unknown> {
    const lifecycle: LifecycleEvent = {
      key: `${this.node.id}:${camera}:tamper:${tamper.kind}:${tamper.startedAt}`,
      phase: tamper.phase === 'start' ? 'start' : 'end',
      camera,
      type: 'tamper',
      subtype: tamper.kind,
      startTime: tamper.startedAt,
      endTime: tamper.endedAt,
      score: Math.min(1, Math.max(0, Math.abs(tamper.value))),
      boxes: [],
      zones: [],
    };
    if (tamper.phase === 'start') this.node.warn(`camera ${camera}: tamper detected (${tamper.kind})`);
    return { topic: `cameras/${camera}/tamper`, payload: frame.jpeg, frame: frame.meta, event: lifecycle };
  }

  private publishMotion(camera: string, on: boolean, state: CameraState): void {
    state.motionOn = on;
    if (!this.settings.publish || !this.handles.bus) return;
    this.handles.bus.publish(topics.cameraMotion(camera), on ? 'ON' : 'OFF', { retain: true, qos: 1 }).catch((err: Error) => this.node.warn(`could not publish motion state: ${err.message}`));
  }

  private showStatus(camera: string, result: MotionResult, state: CameraState): void {
    const tampered = state.tamper?.active() ?? [];
    if (tampered.length > 0) this.node.status(statusOf('error', `${camera}: ${tampered.join(', ')}`));
    else if (result.calibrating) this.node.status(statusOf('connecting', `${camera}: learning the scene`));
    else if (state.motionOn) this.node.status(statusOf('online', `${camera}: motion ${(result.changedFraction * 100).toFixed(1)} %`));
    else this.node.status(statusOf('idle', `${camera}: no motion`));
  }

  /** Ends events under way (their frames will not come to end them) and turns the MQTT motion state OFF. */
  close(send: Send): void {
    const now = Date.now();
    for (const [camera, state] of this.cameras) {
      for (const transition of state.tracker.finish(now)) {
        const out = this.lifecycleMessage(camera, transition);
        if (out) send([null, out]);
      }
    }
    this.cameras.clear();
  }
}
