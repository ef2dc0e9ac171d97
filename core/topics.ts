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
  /** A job's state (idle/running/paused, last outcome, next run), retained; only the runtime publishes under `glimpser/jobs/`. */
  jobState: (job: string) => `${TOPIC_PREFIX}/jobs/${assertTopicLevel(job, 'job id')}/state`,
  /** Everything a device that owns `camera` may publish to. */
  cameraSubtree: (camera: string) => `${TOPIC_PREFIX}/cameras/${assertCameraId(camera)}/#`,
} as const;

/** A value put into one topic level: MQTT wildcards or a `/` there would make it match or name other topics. */
function assertTopicLevel(value: string, what: string): string {
  if (value === '' || /[/+#]/.test(value)) throw new Error(`${what} ${JSON.stringify(value)} cannot be a topic level: expected no "/", "+" or "#"`);
  return value;
}

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
/** Topics outside the camera tree that only the runtime publishes: they carry what Glimpser saw and decided. */
const RUNTIME_TOPICS = new Set<string>([topics.available, topics.events, topics.alerts, topics.summaries]);
/** The jobs subtree is the runtime's: a client that could publish there would fake a job's state. */
const JOBS_PREFIX = `${TOPIC_PREFIX}/jobs/`;

/**
 * Who may publish a topic besides the runtime itself:
 * - `runtime`: nobody else (availability, events, alerts, summaries, the suspension echo, jobs' state);
 * - `device`: only that camera's own edge device (its state, frames, motion and anything else it reports);
 * - `operator`: signed-in users with the operator role or higher (commands: `…/set` and the notifications suspend);
 * - `admin`: admins only (any other topic, e.g. one a flow of the admin's uses).
 */
export type TopicPublishers = 'runtime' | 'device' | 'operator' | 'admin';

export function publishersOf(topic: string): TopicPublishers {
  if (RUNTIME_TOPICS.has(topic) || topic.startsWith(JOBS_PREFIX)) return 'runtime';
  const leaf = parseCameraTopic(topic)?.leaf;
  if (leaf === undefined) return 'admin';
  if (RUNTIME_CAMERA_LEAVES.has(leaf)) return 'runtime';
  if (USER_CAMERA_LEAVES.has(leaf) || leaf === 'set' || leaf.endsWith('/set')) return 'operator';
  return 'device';
}

/** Topics whose messages name one camera in their payload, so a subscriber limited to some cameras can be sent only those. */
export function cameraOfMessage(topic: string, payload: Buffer): string | null {
  if (topic !== topics.events && topic !== topics.alerts) return null;
  try {
    const message = JSON.parse(payload.toString('utf8')) as { after?: { camera?: unknown }; alert?: { camera?: unknown } };
    const camera = topic === topics.events ? message.after?.camera : message.alert?.camera;
    return typeof camera === 'string' ? camera : null;
  } catch {
    return null;
  }
}
