import type { AlertService, StoredAlert } from '../../core/alerts';
import { buildAlert, type AlertEvent } from '../../core/alerts/build';
import { alertDescriptionOf, alertEventOf, phaseOf } from '../../core/alerts/build-event';
import { AlertLifecycle, type EventPhase, type LifecycleStep } from '../../core/alerts/build-lifecycle';
import { AlertCooldown } from '../../core/alerts/cooldown';
import { eventSnapshot } from '../../core/alerts/build-snapshot';
import type { AlertInput } from '../../core/messages';
import type { EventJournal } from '../../core/store/journal';
import type { NodeBehaviour, NodeContext, Send, Status } from '../shared/node-kit';
import type { CapAlertConfig } from './schema';

/**
 * The behaviour of a cap-alert node: each event message → at most one CAP alert for the event's phase (Alert on the
 * first message about an event, Update at most once per `updateEverySeconds`, Cancel or all-clear at the end),
 * stored in the runtime's alert outbox and sent on as msg.alert (the StoredAlert) and msg.cap (the CAP XML).
 * Messages about one event are handled in order, one at a time; different events do not wait for each other.
 */
export class CapAlertController implements NodeBehaviour<AlertInput> {
  private readonly config: CapAlertConfig;
  private readonly status: Status;
  private readonly journal: EventJournal | undefined;
  private readonly alerts: AlertService | undefined;
  private readonly lifecycle: AlertLifecycle;
  private readonly cooldown: AlertCooldown;
  /** The last message in hand per event, so the phases of one event are built in the order they came. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly closing = new AbortController();
  private sent = 0;

  constructor({ config, handles, status }: NodeContext<CapAlertConfig>) {
    this.config = config;
    this.status = status;
    this.journal = handles.journal;
    this.alerts = handles.alerts;
    this.lifecycle = new AlertLifecycle({ updateEveryMs: config.updateEverySeconds * 1000 });
    this.cooldown = new AlertCooldown({ cameraSeconds: config.cooldownSeconds, ruleSeconds: config.ruleCooldownSeconds });
    if (this.alerts) status.show('idle', 'ready');
    else status.show('idle', 'readyNotStored');
  }

  input(msg: AlertInput, send: Send): Promise<void> {
    const event = alertEventOf(msg.event, Date.now());
    const run = (this.queues.get(event.ref) ?? Promise.resolve()).then(() => this.handle(msg, event, send));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(event.ref, settled);
    void settled.then(() => {
      if (this.queues.get(event.ref) === settled) this.queues.delete(event.ref);
    });
    return run;
  }

  close(): void {
    this.closing.abort();
  }

  private async handle(msg: AlertInput, event: AlertEvent, send: Send): Promise<void> {
    const phase = phaseOf(msg.event, event);
    const step = this.lifecycle.step(event.ref, phase, Date.now());
    if (this.heldBack(event, phase, step, msg.gate?.rule ?? null)) return;
    if (step.kind === 'skip') {
      if (step.reason === 'rate-limited') this.status.show('online', 'rateLimited', { camera: event.camera, seconds: this.config.updateEverySeconds });
      else this.status.show('online', 'afterEnd', { camera: event.camera });
      return;
    }
    // Only the first alert waits for the snapshot: later phases go with what the journal has by then.
    const waitMs = step.kind === 'alert' ? this.config.snapshotWaitSeconds * 1000 : 0;
    const { snapshot, missing } = await eventSnapshot(this.journal, event.id, waitMs, this.closing.signal);
    if (this.closing.signal.aborted) return;
    const now = Date.now();
    const alert = await buildAlert(
      { step, event, ai: alertDescriptionOf(msg.ai, msg.event), gate: msg.gate ?? null, snapshot, snapshotMissing: missing, now },
      this.config,
    );
    await this.alerts?.enqueue(alert, []);
    this.lifecycle.record(event.ref, step, { sender: this.config.sender, identifier: alert.identifier, sent: alert.sent }, phase, now);
    this.sent += 1;
    this.showSent(alert);
    send({ ...msg, alert, cap: alert.capXml });
  }

  /**
   * Noise control (core/alerts/cooldown.ts): whether the event's first alert waits out a camera or rule cooldown, or
   * belongs to an event already held back. A new alert that goes counts at once, before its snapshot wait, so two
   * events starting together on one camera cannot both pass.
   */
  private heldBack(event: AlertEvent, phase: EventPhase, step: LifecycleStep, rule: string | null): boolean {
    if (!this.cooldown.enabled) return false;
    const now = Date.now();
    if (this.cooldown.isHeld(event.ref, phase === 'end')) {
      this.status.show('online', 'cooldownEvent', { camera: event.camera });
      return true;
    }
    if (step.kind !== 'alert') return false;
    const hold = this.cooldown.hold(event.camera, rule, now);
    if (!hold) {
      this.cooldown.record(event.camera, rule, now);
      return false;
    }
    if (phase !== 'end') this.cooldown.holdEvent(event.ref, now);
    const seconds = Math.ceil(hold.remainingMs / 1000);
    if (hold.scope === 'camera') this.status.show('online', 'cooldownCamera', { camera: event.camera, seconds });
    else this.status.show('online', 'cooldownRule', { camera: event.camera, rule: hold.key, seconds });
    return true;
  }

  private showSent(alert: StoredAlert): void {
    const params = { msgType: alert.msgType, camera: alert.camera, count: this.sent };
    if (this.alerts) this.status.show('online', 'sent', params);
    else this.status.show('online', 'sentNotStored', params);
  }
}
