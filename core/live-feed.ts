import type { DeliveryResult, StoredAlert } from './alerts/index';
import type { Bus } from './bus/bus';
import type { CameraState, CameraStatus } from './capture/source';
import type { LiveMessage } from './live';
import { silentLogger, type Logger } from './log/logger';
import type { EventChangeListener } from './store/event-changes';
import { eventJson } from './store/event-json';
import { parseCameraTopic, TOPIC_PREFIX } from './topics';

export type LiveListener = (message: LiveMessage) => void;

/** What the feed hears from: each part is optional, as each can be turned off in the configuration. */
export interface LiveFeedSources {
  journal?: { onChange(listener: EventChangeListener): () => void };
  alerts?: {
    onAlert(listener: (alert: StoredAlert) => void): () => void;
    onResult(listener: (result: DeliveryResult) => void): () => void;
    getAlert(id: string): StoredAlert | null;
  };
  logger?: Logger;
}

const CAMERA_STATES: ReadonlySet<CameraState> = new Set(['online', 'offline', 'connecting', 'stopped'] satisfies CameraState[]);
const DELIVERY_STATES: Record<DeliveryResult['outcome'], string> = { delivered: 'delivered', retry: 'retrying', dead: 'dead' };

/**
 * The messages of `GET /api/live` (core/live.ts), built once per change and handed to every listener: journal
 * changes, alerts when first stored, delivery attempts, and camera states as the cameras publish them retained on
 * `glimpser/cameras/<id>/state` (the bus carries edge devices' states too, which no in-process hook would). Nothing is
 * built while nobody listens. A listener that throws is logged; the others and the writers never see it.
 */
export class LiveFeed {
  private readonly listeners = new Set<LiveListener>();
  private readonly detach: Array<() => void | Promise<void>> = [];
  private readonly log: Logger;
  private readonly alerts: LiveFeedSources['alerts'];

  constructor(sources: LiveFeedSources) {
    this.log = sources.logger ?? silentLogger;
    this.alerts = sources.alerts;
    const { journal, alerts } = sources;
    if (journal) {
      this.detach.push(
        journal.onChange(({ type, after }) => this.announce(() => ({ kind: 'event', change: type, camera: after.camera, event: eventJson(after) }))),
      );
    }
    if (alerts) {
      this.detach.push(
        alerts.onAlert((alert) =>
          this.announce(() => ({
            kind: 'alert',
            camera: alert.camera,
            alertId: alert.id,
            eventId: alert.eventId,
            msgType: alert.msgType,
            headline: alert.headline,
          })),
        ),
        alerts.onResult((result) => this.announce(() => this.delivery(result))),
      );
    }
  }

  /** Starts hearing camera states from the bus; stops when the feed is closed. */
  async watchCameras(bus: Pick<Bus, 'subscribe'>): Promise<void> {
    const unsubscribe = await bus.subscribe(`${TOPIC_PREFIX}/cameras/+/state`, (topic, payload) => {
      const camera = parseCameraTopic(topic)?.camera;
      if (camera) this.announce(() => cameraMessage(camera, payload));
    });
    this.detach.push(unsubscribe);
  }

  /** Calls `listener` with every message from now on; returns the function that stops it. */
  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.all(this.detach.splice(0).map((stop) => stop()));
  }

  private delivery({ delivery, outcome }: DeliveryResult): LiveMessage | null {
    const alert = this.alerts?.getAlert(delivery.alertId);
    if (!alert) return null;
    return {
      kind: 'delivery',
      camera: alert.camera,
      alertId: delivery.alertId,
      deliveryId: delivery.id,
      channel: delivery.channel,
      target: delivery.target,
      state: DELIVERY_STATES[outcome],
      lastError: delivery.lastError,
    };
  }

  private announce(build: () => LiveMessage | null): void {
    if (this.listeners.size === 0) return;
    let message: LiveMessage | null;
    try {
      message = build();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'live message not built');
      return;
    }
    if (!message) return;
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (err) {
        this.log.error({ err: (err as Error).message, kind: message.kind }, 'live listener failed');
      }
    }
  }
}

/** A camera's retained state as published (by Glimpser or by the camera's edge device): only the status fields, checked. */
function cameraMessage(camera: string, payload: Buffer): LiveMessage | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const s = parsed as Record<string, unknown>;
  if (typeof s.state !== 'string' || !CAMERA_STATES.has(s.state as CameraState)) return null;
  const status: CameraStatus = {
    camera,
    state: s.state as CameraState,
    fps: typeof s.fps === 'number' ? s.fps : 0,
    lastFrameAt: typeof s.lastFrameAt === 'number' ? s.lastFrameAt : null,
    lastError: typeof s.lastError === 'string' ? s.lastError : null,
    restarts: typeof s.restarts === 'number' ? s.restarts : 0,
  };
  return { kind: 'camera', camera, status };
}
