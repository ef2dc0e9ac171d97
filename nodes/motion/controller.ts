import type { Node, NodeMessageInFlow } from 'node-red';
import type { Camera } from '../../core/capture/camera';
import type { CameraStatus } from '../../core/capture/source';
import { toFrameMessage, type Frame } from '../../core/frames/frame';
import { GREY_HEIGHT, jpegToGrey, type GreyFrame, type GreyPlane } from '../../core/frames/grey';
import { checkFrameMessage, type MotionEventMessage, type MotionMessage } from '../../core/messages';
import { CameraFeed, type JpegCamera } from '../../core/motion/camera-feed';
import type { MotionResult } from '../../core/motion/detector';
import { MotionEventTracker, type MotionTransition } from '../../core/motion/lifecycle';
import { motionEventMessage, tamperEventMessage } from '../../core/motion/lifecycle-message';
import type { CheckedRegions } from '../../core/motion/regions';
import { SceneChangeDetector } from '../../core/motion/scene-change';
import { TamperDetector, type TamperEvent } from '../../core/motion/tamper';
import { VideoMotionDetector } from '../../core/motion/video-motion';
import { topics } from '../../core/topics';
import type { CameraController } from '../glimpser-camera/controller';
import type { GlimpserHandles } from '../shared/handles';
import type { NodeBehaviour, NodeContext, Send, Status } from '../shared/node-kit';
import { motionRegions, type MotionConfig } from './schema';

/** Updates of an ongoing event are sent at most this often: the journal and MQTT need the best frame, not every one. */
const UPDATE_EVERY_MS = 1000;

/** What one camera's frames have taught this node: detectors keep per-camera state. */
interface CameraState {
  video?: VideoMotionDetector;
  scene?: SceneChangeDetector;
  tamper?: TamperDetector;
  tracker: MotionEventTracker<Frame>;
  lastUpdateSent: number;
  motionOn: boolean;
}

/** Reading a camera directly: the feed (core/motion/camera-feed.ts) and how to let go of the camera. */
interface Watch {
  camera: JpegCamera;
  feed: CameraFeed;
  detach: () => Promise<void>;
}

/**
 * The behaviour of a motion node: frames in (wired, or the camera's grey planes), every frame out with `msg.motion`,
 * and motion / tamper / scene-change events with a start → update → end lifecycle on the second output. Detection,
 * the camera feed and the event messages are core/motion's; this adapter throttles updates, publishes the motion
 * state on MQTT and shows the node status.
 */
export class MotionController implements NodeBehaviour {
  private readonly node: Node;
  private readonly config: MotionConfig;
  private readonly regions: CheckedRegions;
  private readonly handles: GlimpserHandles;
  private readonly status: Status;
  private readonly send: Send;
  private readonly cameras = new Map<string, CameraState>();
  private watch: Watch | null = null;

  constructor({ node, config, handles, status, configNode, send }: NodeContext<MotionConfig>) {
    this.node = node;
    this.config = config;
    this.regions = motionRegions(config);
    this.handles = handles;
    this.status = status;
    this.send = send;
    status.show('idle', 'waiting');
    if (config.input === 'camera') {
      if (!config.camera) throw new Error('"Frames from" is the camera, but no camera is selected: pick a glimpser-camera');
      this.watchCamera(configNode<CameraController>(config.camera, 'glimpser-camera', 'camera').camera, send);
    }
  }

  /** A wired frame message. Read before its shape is checked: a node reading its camera refuses any message. */
  async input(msg: NodeMessageInFlow, send: Send): Promise<void> {
    if (this.watch !== null)
      throw new Error(
        `this motion node reads camera ${this.watch.camera.id} directly; wired frames are not used (set "Frames from" to wired messages to use them)`,
      );
    const frameMsg = checkFrameMessage(msg);
    const { payload, frame: meta } = frameMsg;
    const grey = await jpegToGrey(payload, GREY_HEIGHT, { timestamp: meta.timestamp, sequence: meta.sequence });
    const state = this.stateFor(meta.camera);
    const frame: Frame = { jpeg: payload, meta };
    const result = this.detect(state, grey);
    const events = this.track(meta.camera, state, result, meta.timestamp, frame);
    for (const tamper of state.tamper?.update(grey) ?? []) events.push(this.tamperMessage(meta.camera, tamper, frame));
    const out: MotionMessage = { ...frameMsg, motion: result };
    send([out, null]);
    for (const event of events) send([null, event]);
    this.showStatus(meta.camera, result, state);
  }

  /**
   * Reads the camera's grey planes directly; the feed asks for JPEGs while motion lasts and pairs each result
   * with a JPEG taken no earlier than its plane.
   */
  private watchCamera(camera: Camera, send: Send): void {
    const feed = new CameraFeed(camera, {
      busy: () => this.cameras.get(camera.id)?.tracker.busy ?? false,
      take: (result, timestamp, frame) => {
        for (const event of this.track(camera.id, this.stateFor(camera.id), result, timestamp, frame)) send([null, event]);
      },
    });
    const watch: Watch = { camera, feed, detach: async () => undefined };
    // The live view draws what this node watches (GET /api/cameras lists each camera's zones and masks).
    const removeRegions = this.handles.cameras.addRegions(camera.id, this.regions);
    this.watch = watch;
    const detach = camera.attach({
      continuousJpeg: false,
      onGrey: (plane) => this.onPlane(feed, plane, send),
      onFrame: (frame) => {
        const result = feed.frame(frame);
        // JPEGs made while motion lasts go out on the first output, as wired frames would.
        if (result !== null) send([{ ...toFrameMessage(frame), motion: result } satisfies MotionMessage, null]);
      },
      onStatus: (cameraStatus) => this.showCameraStatus(cameraStatus),
    });
    watch.detach = () => {
      removeRegions();
      return detach();
    };
  }

  private onPlane(feed: CameraFeed, plane: GreyPlane, send: Send): void {
    const state = this.stateFor(plane.camera);
    const result = this.detect(state, plane);
    feed.plane(plane, result);
    for (const tamper of state.tamper?.update(plane) ?? []) {
      void feed.recentPicture(tamper.startedAt).then((frame) => send([null, this.tamperMessage(plane.camera, tamper, frame)]));
    }
    this.showStatus(plane.camera, result, state);
  }

  private detect(state: CameraState, grey: GreyFrame): MotionResult {
    if (state.scene) return sceneResult(state.scene, grey);
    return state.video!.detect(grey);
  }

  /** The event messages a result leads to: updates at most once a second; start and end also set the MQTT state. */
  private track(camera: string, state: CameraState, result: MotionResult, timestamp: number, frame: Frame): MotionEventMessage[] {
    const events: MotionEventMessage[] = [];
    for (const transition of state.tracker.feed(result, timestamp, frame)) {
      const event = this.lifecycleMessage(camera, state, transition);
      if (event) events.push(event);
    }
    return events;
  }

  private lifecycleMessage(camera: string, state: CameraState, transition: MotionTransition<Frame>): MotionEventMessage | null {
    const now = transition.event.lastMotionAt;
    if (transition.type === 'update' && now - state.lastUpdateSent < UPDATE_EVERY_MS) return null;
    state.lastUpdateSent = now;
    if (transition.type !== 'update') this.publishMotion(camera, transition.type === 'start', state);
    return motionEventMessage({ source: this.node.id, camera, scene: this.config.mode === 'scene', transition });
  }

  private tamperMessage(camera: string, tamper: TamperEvent, frame: Frame): MotionEventMessage {
    if (tamper.phase === 'start') this.node.warn(`camera ${camera}: tamper detected (${tamper.kind})`);
    return tamperEventMessage({ source: this.node.id, camera, tamper, frame });
  }

  private stateFor(camera: string): CameraState {
    let state = this.cameras.get(camera);
    if (state) return state;
    const { config, regions, handles } = this;
    state = {
      tracker: new MotionEventTracker<Frame>({ minDurationMs: config.minDuration * 1000, quietMs: config.quiet * 1000, camera }),
      lastUpdateSent: 0,
      motionOn: false,
    };
    if (config.mode === 'scene') {
      state.scene = new SceneChangeDetector({ ...regions, threshold: config.sceneThreshold, camera, logger: handles.logger });
    } else {
      state.video = new VideoMotionDetector({
        ...regions,
        threshold: config.threshold,
        minArea: config.minArea / 100,
        camera,
        logger: handles.logger,
        onReset: (reset) =>
          this.node.warn(
            `camera ${camera}: frame size changed from ${reset.from.width}×${reset.from.height} to ${reset.to.width}×${reset.to.height}; motion detection starts over`,
          ),
      });
      if (config.tamper) state.tamper = new TamperDetector({ camera });
    }
    this.cameras.set(camera, state);
    return state;
  }

  private publishMotion(camera: string, on: boolean, state: CameraState): void {
    state.motionOn = on;
    if (!this.config.publish || !this.handles.bus) return;
    this.handles.bus
      .publish(topics.cameraMotion(camera), on ? 'ON' : 'OFF', { retain: true, qos: 1 })
      .catch((err: Error) => this.node.warn(`could not publish motion state: ${err.message}`));
  }

  private showCameraStatus(cameraStatus: CameraStatus): void {
    if (cameraStatus.state === 'offline' && cameraStatus.lastError) this.status.show('offline', 'cameraOfflineBecause', { error: cameraStatus.lastError });
    else if (cameraStatus.state === 'offline') this.status.show('offline', 'cameraOffline');
    else if (cameraStatus.state === 'connecting') this.status.show('connecting', 'cameraConnecting');
  }

  private showStatus(camera: string, result: MotionResult, state: CameraState): void {
    const tampered = state.tamper?.active() ?? [];
    if (tampered.length > 0) this.status.show('error', 'tampered', { camera, kinds: tampered.join(', ') });
    else if (result.calibrating) this.status.show('connecting', 'learning', { camera });
    else if (state.motionOn) this.status.show('online', 'motion', { camera, percent: (result.changedFraction * 100).toFixed(1) });
    else this.status.show('idle', 'quiet', { camera });
  }

  /** Ends events under way (their frames will not come to end them) and turns the MQTT motion state OFF. */
  async close(): Promise<void> {
    const watch = this.watch;
    this.watch = null;
    if (watch !== null) {
      watch.feed.close();
      await watch.detach();
    }
    const now = Date.now();
    for (const [camera, state] of this.cameras) {
      for (const transition of state.tracker.finish(now)) {
        const event = this.lifecycleMessage(camera, state, transition);
        if (event) this.send([null, event]);
      }
    }
    this.cameras.clear();
  }
}

/** A scene change is a one-frame "motion" so that it flows through the same lifecycle as video motion. */
function sceneResult(scene: SceneChangeDetector, grey: GreyFrame): MotionResult {
  const change = scene.compare(grey);
  return {
    motion: change.changed && change.reason === 'content',
    boxes: [],
    changedFraction: change.difference,
    zones: change.changedZones,
    calibrating: change.reason === 'first',
    score: change.difference,
  };
}
