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
