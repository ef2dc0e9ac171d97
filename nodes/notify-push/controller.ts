import type { AlertService, DeliveryResult } from '../../core/alerts';
import { createPushChannel } from '../../core/alerts/channels/push';
import { PushSubscriptionStore, type PushSubscriptionRecord } from '../../core/alerts/push-subscriptions';
import { checkVapidSubject, generateVapidKeys, isVapidKeys, type VapidKeys } from '../../core/alerts/vapid';
import type { AlertMessage } from '../../core/messages';
import type { NodeBehaviour, NodeContext, Status } from '../shared/node-kit';
import type { NotifyPushConfig } from './schema';
import { enqueueAlert, showDeliveryResult } from '../shared/notifier';

interface PushCredentials {
  vapidPublicKey?: string;
  vapidPrivateKey?: string;
}

/**
 * The install's VAPID keys when the runtime lends them (kept in secrets.json); in a plain Node-RED the node's own,
 * generated once into its credentials so subscriptions made with its public key stay valid across restarts.
 */
function vapidKeysOf(ctx: NodeContext<NotifyPushConfig>): VapidKeys {
  if (ctx.handles.push) return ctx.handles.push.keys;
  const stored = (ctx.node as { credentials?: PushCredentials }).credentials ?? {};
  const keys = { publicKey: stored.vapidPublicKey, privateKey: stored.vapidPrivateKey };
  if (isVapidKeys(keys)) return keys;
  const generated = generateVapidKeys();
  ctx.RED.nodes.addCredentials(ctx.node.id, { vapidPublicKey: generated.publicKey, vapidPrivateKey: generated.privateKey });
  return generated;
}

/**
 * The behaviour of a notify-push node: registers its push channel with the alert outbox and, for each msg.alert,
 * enqueues one delivery per subscribed browser (all, or those with the chosen tag) before the message is
 * acknowledged; the outbox's worker sends them with web-push, retries and dead-letters, and reports each attempt back
 * for the status line. A missing subject or no subscribed browser is "not configured" (a status, not an error); a
 * subject push services would refuse is a red status, and deliveries are dead-lettered naming it.
 */
export class NotifyPushController implements NodeBehaviour<AlertMessage> {
  private readonly status: Status;
  private readonly nodeId: string;
  private readonly subscriptions: PushSubscriptionStore;
  private readonly tag: string | null;
  private readonly alerts: AlertService | null;
  private readonly badSubject: string | null = null;
  private readonly unregister: (() => void) | null = null;
  private readonly unwatch: () => void;
  private lastResult = false;

  constructor(ctx: NodeContext<NotifyPushConfig>) {
    const { config, handles } = ctx;
    this.status = ctx.status;
    this.nodeId = ctx.node.id;
    this.tag = config.subscriptions === 'tag' ? config.tag : null;
    this.subscriptions = handles.push?.subscriptions ?? PushSubscriptionStore.inMemory();
    this.alerts = handles.alerts ?? null;
    if (config.subject) {
      try {
        checkVapidSubject(config.subject);
      } catch (err) {
        this.badSubject = (err as Error).message;
      }
    }
    const keys = config.subject ? vapidKeysOf(ctx) : null;
    if (this.alerts && keys) {
      const channel = createPushChannel({
        subscriptions: this.subscriptions,
        keys,
        subject: config.subject,
        ttl: config.ttl,
        agent: handles.push?.agent,
        onResult: (result) => this.showResult(result),
      });
      this.unregister = this.alerts.registerChannel(this.nodeId, channel);
    }
    this.unwatch = this.subscriptions.onChange(() => {
      if (!this.lastResult) this.showConfigured(config);
    });
    this.showConfigured(config);
  }

  /** Stored with its deliveries in one transaction before done(): from here the outbox owns them. */
  input(msg: AlertMessage): Promise<void> {
    const targets = this.targets();
    const notConfigured = this.notConfigured(targets);
    if (notConfigured) throw new Error(`notify-push is not configured: ${notConfigured}`);
    return enqueueAlert(
      this.alerts!,
      this.status,
      'push',
      this.nodeId,
      targets.map((subscription) => subscription.id),
      msg.alert,
    );
  }

  close(): void {
    this.unwatch();
    this.unregister?.();
  }

  private targets(): PushSubscriptionRecord[] {
    return this.subscriptions.list(this.tag ?? undefined);
  }

  /** Why this node cannot send, worded for the error a message that arrives anyway gets; null when it can. */
  private notConfigured(targets: PushSubscriptionRecord[]): string | null {
    if (!this.alerts) return 'no alert outbox: notify-push needs the Glimpser runtime';
    if (!this.unregister) return 'no VAPID subject: give a mailto: address or an https: URL in the "subject" setting';
    if (targets.length === 0)
      return this.tag ? `no browser subscribed with the tag "${this.tag}"` : 'no browser subscribed: subscribe one through POST /api/push/subscriptions';
    return null;
  }

  private showConfigured(config: NotifyPushConfig): void {
    const targets = this.targets();
    if (!this.alerts) this.status.show('idle', 'noOutbox');
    else if (!config.subject) this.status.show('idle', 'noSubject');
    else if (this.badSubject) this.status.show('error', 'badSubject', { subject: config.subject });
    else if (targets.length === 0 && this.tag) this.status.show('idle', 'noTaggedSubscriptions', { tag: this.tag });
    else if (targets.length === 0) this.status.show('idle', 'noSubscriptions');
    else this.status.show('online', 'ready', { count: targets.length });
  }

  private showResult(result: DeliveryResult): void {
    this.lastResult = true;
    showDeliveryResult(this.status, result);
  }
}
