import type { AlertService, DeliveryResult } from '../../core/alerts';
import { SmsChannel } from '../../core/alerts/channels/sms';
import type { AlertMessage } from '../../core/messages';
import type { TwilioService } from '../glimpser-twilio/controller';
import type { NodeBehaviour, NodeContext, Status } from '../shared/node-kit';
import type { NotifySmsConfig } from './schema';
import { enqueueAlert, showDeliveryResult } from '../shared/notifier';

/**
 * The behaviour of a notify-sms node: registers its SMS channel with the alert outbox and, for each msg.alert,
 * enqueues one delivery per number before the message is acknowledged; the outbox's worker sends them, retries and
 * dead-letters, and reports each attempt back here for the status line. A node missing a setting it needs (an
 * account, numbers, a sender) is "not configured": a status, not an error, until a message arrives.
 */
export class NotifySmsController implements NodeBehaviour<AlertMessage> {
  private readonly status: Status;
  private readonly nodeId: string;
  private readonly to: string[];
  private alerts: AlertService | null = null;
  private unregister: (() => void) | null = null;
  /** Why this node cannot send yet, in the error a message that arrives anyway gets; null when ready. */
  private notConfigured: string | null = null;

  constructor(ctx: NodeContext<NotifySmsConfig>) {
    const { config, status, handles } = ctx;
    this.status = status;
    this.nodeId = ctx.node.id;
    this.to = config.to;
    const twilio = config.twilio ? ctx.configNode<TwilioService>(config.twilio, 'glimpser-twilio', 'twilio') : null;
    if (!twilio) {
      this.notConfigured = 'no glimpser-twilio account chosen: pick one in the "twilio" setting';
      status.show('idle', 'noTwilio');
    } else if (!twilio.account) {
      this.notConfigured = twilio.notConfigured ?? 'the Twilio account has no credentials';
      status.show('idle', 'noCredentials');
    } else if (config.to.length === 0) {
      this.notConfigured = 'no numbers to send to: add them in the "to" setting';
      status.show('idle', 'noNumbers');
    } else if (!config.from && !config.messagingServiceSid) {
      this.notConfigured = 'no sender: give a "from" number or a "messagingServiceSid"';
      status.show('idle', 'noSender');
    } else if (!handles.alerts) {
      this.notConfigured = 'no alert outbox: notify-sms needs the Glimpser runtime';
      status.show('idle', 'noOutbox');
    } else {
      const channel = new SmsChannel(
        twilio.account,
        {
          from: config.from,
          messagingServiceSid: config.messagingServiceSid,
          template: config.template,
          maxLength: config.maxLength,
          mediaBaseUrl: config.includeMedia ? config.publicUrl : null,
          links: handles.mediaLinks,
        },
        (result) => this.showResult(result),
      );
      this.alerts = handles.alerts;
      this.unregister = handles.alerts.registerChannel(this.nodeId, Object.assign(channel, { testTargets: () => [...config.to] }));
      status.show('online', 'ready', { count: config.to.length });
    }
  }

  input(msg: AlertMessage): Promise<void> {
    if (!this.alerts) throw new Error(`notify-sms is not configured: ${this.notConfigured ?? 'see the node status'}`);
    return enqueueAlert(this.alerts, this.status, 'sms', this.nodeId, this.to, msg.alert);
  }

  close(): void {
    this.unregister?.();
    this.unregister = null;
  }

  private showResult(result: DeliveryResult): void {
    showDeliveryResult(this.status, result);
  }
}
