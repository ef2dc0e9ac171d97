import type { Bus } from '../bus/bus';
import type { Logger } from '../log/logger';
import { parseCameraTopic, TOPIC_PREFIX } from '../topics';
import type { EventJournal } from './journal';

interface StatePayload {
  state?: unknown;
  lastError?: unknown;
  updatedAt?: unknown;
}

/**
 * Records camera outages in the event journal: a `capture_failure` event starts when a camera's retained state turns
 * `offline` and ends when it is `online` again. It listens on the bus, so cameras of every kind — edge devices too —
 * are covered without each source knowing about the journal.
 */
export class CaptureFailureRecorder {
  private readonly open = new Map<string, string>();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly journal: EventJournal,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(`${TOPIC_PREFIX}/cameras/+/state`, (topic, payload) => this.onState(topic, payload));
  }

  private onState(topic: string, payload: Buffer): void {
    const parsed = parseCameraTopic(topic);
    if (!parsed || parsed.leaf !== 'state') return;
    let state: StatePayload;
    try {
      state = JSON.parse(payload.toString('utf8')) as StatePayload;
    } catch {
      this.log.debug({ topic }, 'camera state is not JSON; not recorded');
      return;
    }
    const camera = parsed.camera;
    const openId = this.open.get(camera);
    try {
      if (state.state === 'offline' && !openId) {
        const event = this.journal.insert({
          camera,
          type: 'capture_failure',
          startTime: this.now(),
          score: 1,
          data: { lastError: typeof state.lastError === 'string' ? state.lastError : null },
        });
        this.open.set(camera, event.id);
      } else if (state.state === 'online' && openId) {
        this.journal.update(openId, { endTime: this.now() });
        this.open.delete(camera);
      } else if (state.state === 'offline' && openId && typeof state.lastError === 'string') {
        this.journal.update(openId, { data: { lastError: state.lastError } });
      }
    } catch (err) {
      this.log.warn({ camera, err: (err as Error).message }, 'could not record a capture failure');
    }
  }

  /** Ends outages still open, as the runtime stops: their end is unknown, so they end at the stop. */
  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = null;
    for (const id of this.open.values()) this.journal.update(id, { endTime: this.now() });
    this.open.clear();
  }
}
