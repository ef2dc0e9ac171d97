import type { Bus } from '../bus/bus';
import { silentLogger, type Logger } from '../log/logger';
import { parseCameraTopic, topics } from '../topics';
import { parseSuspendPayload, suspensionState, type Suspension, type SuspensionStore } from './suspensions';

export interface SuspensionMqttOptions {
  bus: Bus;
  suspensions: SuspensionStore;
  logger?: Logger;
}

/**
 * Suspend and resume over MQTT, as Frigate users know it: a signed-in user publishes minutes (or `{"minutes": n}`,
 * 0 or `off` to resume) to `glimpser/cameras/<id>/notifications/suspend`, and the runtime answers with the camera's
 * state, retained, on `…/notifications/suspended` — after every change, whether it came from MQTT, the API or the
 * suspension running out. Who may publish the command is the broker's decision (runtime/broker.ts: users yes, edge
 * devices and anonymous clients no; nobody but the runtime publishes the echo).
 */
export class SuspensionMqtt {
  private readonly log: Logger;
  private unsubscribe: (() => Promise<void>) | null = null;
  private stopListening: (() => void) | null = null;
  private publishing: Promise<void> = Promise.resolve();
  /** True while the bus hands over retained commands: a command left retained is not carried out again. */
  private replaying = false;

  constructor(private readonly options: SuspensionMqttOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'notifications' });
  }

  async start(): Promise<void> {
    const { bus, suspensions } = this.options;
    this.stopListening = suspensions.onChange((camera, suspension) => this.echo(camera, suspension));
    this.replaying = true;
    try {
      this.unsubscribe = await bus.subscribe(topics.notificationsSuspendFilter, (topic, payload) => this.onCommand(topic, payload));
    } finally {
      this.replaying = false;
    }
    for (const suspension of suspensions.list()) this.echo(suspension.camera, suspension);
    await this.publishing;
  }

  /** Resolves once the state messages announced so far are published (or failed, which is logged). */
  flush(): Promise<void> {
    return this.publishing;
  }

  async stop(): Promise<void> {
    this.stopListening?.();
    this.stopListening = null;
    await this.unsubscribe?.();
    this.unsubscribe = null;
    await this.publishing;
  }

  private onCommand(topic: string, payload: Buffer): void {
    const camera = parseCameraTopic(topic)?.camera;
    if (camera === undefined || this.replaying || payload.length === 0) return;
    let minutes: number;
    try {
      minutes = parseSuspendPayload(payload);
    } catch (err) {
      this.log.warn({ camera, topic, err: (err as Error).message }, 'notification suspend command ignored');
      // The state again, so whoever sent it sees that nothing changed.
      this.echo(camera, this.options.suspensions.get(camera));
      return;
    }
    const { suspensions } = this.options;
    if (minutes === 0) {
      this.log.info({ camera }, 'camera notifications resumed over MQTT');
      // Resuming a camera that was not suspended changes nothing, so the store announces nothing: answer anyway.
      if (!suspensions.resume(camera)) this.echo(camera, null);
      return;
    }
    const suspension = suspensions.suspend(camera, minutes);
    this.log.info({ camera, minutes, until: suspension && new Date(suspension.until).toISOString() }, 'camera notifications suspended over MQTT');
  }

  private echo(camera: string, suspension: Suspension | null): void {
    const payload = JSON.stringify(suspensionState(camera, suspension));
    const topic = topics.cameraNotificationsSuspended(camera);
    this.publishing = this.publishing.then(() =>
      this.options.bus
        .publish(topic, payload, { retain: true, qos: 1 })
        .catch((err: Error) => this.log.warn({ camera, err: err.message }, 'suspension state not published')),
    );
  }
}
