import type { CameraStatus } from './capture/source';
import type { EventJson } from './store/event-json';

/**
 * What the web app hears without reloading: the messages of `GET /api/live` (server-sent events, one `data:` line of
 * JSON each, the SSE event name being `kind`). Each names its camera, so a caller limited to some cameras gets only
 * theirs. Types only: the runtime (runtime/api/live.ts) sends them, the web app (web/src/live.ts) reads them.
 */
export type LiveMessage = LiveEvent | LiveAlert | LiveDelivery | LiveCamera;

/** An event opened, changed or ended (the journal's change, as MQTT `glimpser/events` carries it). */
export interface LiveEvent {
  kind: 'event';
  change: 'new' | 'update' | 'end';
  camera: string;
  event: EventJson;
}

/** An alert was raised (Alert, Update or Cancel) for an event. */
export interface LiveAlert {
  kind: 'alert';
  camera: string;
  alertId: string;
  eventId: string | null;
  msgType: string;
  headline: string;
}

/** A delivery of an alert changed state: sent, retrying (with the next try), or dead-lettered (with the reason). */
export interface LiveDelivery {
  kind: 'delivery';
  camera: string;
  alertId: string;
  deliveryId: string;
  channel: string;
  target: string;
  state: string;
  lastError: string | null;
}

/** A camera's status changed (online/offline, last frame, error). */
export interface LiveCamera {
  kind: 'camera';
  camera: string;
  status: CameraStatus;
}

export const LIVE_KINDS = ['event', 'alert', 'delivery', 'camera'] as const satisfies readonly LiveMessage['kind'][];
