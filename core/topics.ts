import { assertCameraId } from './ids';

/** The one place that builds and parses Glimpser's MQTT topics. Everything lives under `glimpser/`. */
export const TOPIC_PREFIX = 'glimpser';

export const topics = {
  available: `${TOPIC_PREFIX}/available`,
  events: `${TOPIC_PREFIX}/events`,
  /** Every CAP alert when first stored: `{ type: new|update|end, alert }`, QoS 1, not retained. */
  alerts: `${TOPIC_PREFIX}/alerts`,
  /** The latest window summary from ai-summary nodes, retained. */
  summaries: `${TOPIC_PREFIX}/summaries`,
  cameraFrame: (camera: string) => `${TOPIC_PREFIX}/cameras/${assertCameraId(camera)}/frame`,
  cameraState: (camera: string) => `${TOPIC_PREFIX}/cameras/${assertCameraId(camera)}/state`,
  cameraMotion: (camera: string) => `${TOPIC_PREFIX}/cameras/${assertCameraId(camera)}/motion`,
  /** Commands from signed-in users: minutes (1..1440), JSON `{minutes}`, or 0 / `off` to resume. Devices may not publish it. */
  cameraNotificationsSuspend: (camera: string) => `${TOPIC_PREFIX}/cameras/${assertCameraId(camera)}/notifications/suspend`,
  /** The runtime's retained echo of a camera's suspension state; clients cannot publish it. */
  cameraNotificationsSuspended: (camera: string) => `${TOPIC_PREFIX}/cameras/${assertCameraId(camera)}/notifications/suspended`,
  /** What the runtime subscribes to for suspend commands. */
  notificationsSuspendFilter: `${TOPIC_PREFIX}/cameras/+/notifications/suspend`,
  /** Everything a device that owns `camera` may publish to. */
  cameraSubtree: (camera: string) => `${TOPIC_PREFIX}/cameras/${assertCameraId(camera)}/#`,
} as const;

export interface CameraTopic {
  camera: string;
  /** The part after `glimpser/cameras/<id>/`, e.g. `frame` or `state`. */
  leaf: string;
}

/** Parses `glimpser/cameras/<id>/<leaf...>`; returns null for any other topic. */
export function parseCameraTopic(topic: string): CameraTopic | null {
  const parts = topic.split('/');
  if (parts.length < 4 || parts[0] !== TOPIC_PREFIX || parts[1] !== 'cameras') return null;
  const camera = parts[2];
  try {
    assertCameraId(camera);
  } catch {
    return null;
  }
  return { camera, leaf: parts.slice(3).join('/') };
}

/** Camera leaves only the runtime publishes (a client that could would fake the state others rely on). */
const RUNTIME_CAMERA_LEAVES = new Set(['notifications/suspended']);
/** Camera leaves that are commands for signed-in users, never for the camera's own edge device. */
const USER_CAMERA_LEAVES = new Set(['notifications/suspend']);

/** Who may publish a topic besides the runtime: `nobody`, `users` only, or `any` session the broker otherwise allows. */
export function publishersOf(topic: string): 'nobody' | 'users' | 'any' {
  if (topic === topics.available) return 'nobody';
  const leaf = parseCameraTopic(topic)?.leaf;
  if (leaf === undefined) return 'any';
  if (RUNTIME_CAMERA_LEAVES.has(leaf)) return 'nobody';
  return USER_CAMERA_LEAVES.has(leaf) ? 'users' : 'any';
}
