import type { AlertService, DeliveryResult } from '../../core/alerts';
import { EmailChannel } from '../../core/alerts/channels/email';
import type { AlertMessage } from '../../core/messages';
import type { SmtpService } from '../glimpser-smtp/controller';
import type { NodeBehaviour, NodeContext, Status } from '../shared/node-kit';
import type { NotifyEmailConfig } from './schema';
import { enqueueAlert, showDeliveryResult } from '../shared/notifier';

/**
 * The behaviour of a notify-email node: registers its email channel with the alert outbox and, for each msg.alert,
 * enqueues one delivery per recipient before the message is acknowledged; the outbox's worker sends them through
 * the SMTP server's shared transport, retries and dead-letters, and reports each attempt back here for the status
 * line. A node missing something it needs (a server, recipients, the runtime's outbox) is "not configured": a
 * status, not an error, until a message arrives anyway.
 */
export class NotifyEmailController implements NodeBehaviour<AlertMessage> {
  private readonly status: Status;
  private readonly node: NodeContext<NotifyEmailConfig>['node'];
  private readonly nodeId: string;
  private readonly to: string[];
  private alerts: AlertService | null = null;
  private unregister: (() => void) | null = null;
  /** Why this node cannot send yet, in the error a message that arrives anyway gets; null when ready. */
  private notConfigured: string | null = null;

  constructor(ctx: NodeContext<NotifyEmailConfig>) {
    const { config, status, handles } = ctx;
    this.status = status;
    this.node = ctx.node;
    this.nodeId = ctx.node.id;
    this.to = config.to;
    const smtp = config.smtp ? ctx.configNode<SmtpService>(config.smtp, 'glimpser-smtp', 'smtp') : null;
    if (!smtp) {
      this.notConfigured = 'no glimpser-smtp server chosen: pick one in the "smtp" setting';
      status.show('idle', 'noSmtp');
    } else if (!smtp.mailer) {
      this.notConfigured = smtp.notConfigured ?? 'the SMTP server is not configured';
      if (smtp.missing === 'from') status.show('idle', 'noFrom');
      else status.show('idle', 'noHost');
    } else if (config.to.length === 0) {
      this.notConfigured = 'no recipients: add addresses in the "to" setting';
      status.show('idle', 'noRecipients');
    } else if (!handles.alerts) {
      this.notConfigured = 'no alert outbox: notify-email needs the Glimpser runtime';
      status.show('idle', 'noOutbox');
    } else {
      const content = {
        templates: { subject: config.subject, text: config.text, html: config.html },
        snapshot: config.snapshot,
        attachCap: config.attachCap,
        timeZone: config.timeZone,
      };
      const channel = new EmailChannel(smtp.mailer, content, (result) => this.showResult(result));
      this.alerts = handles.alerts;
      this.unregister = handles.alerts.registerChannel(this.nodeId, Object.assign(channel, { testTargets: () => [...config.to] }));
      status.show('online', 'ready', { count: config.to.length, host: smtp.mailer.host });
    }
  }

  input(msg: AlertMessage): Promise<void> {
    if (!this.alerts) throw new Error(`notify-email is not configured: ${this.notConfigured ?? 'see the node status'}`);
    return enqueueAlert(this.alerts, this.status, 'email', this.nodeId, this.to, msg.alert);
  }

  close(): void {
    this.unregister?.();
    this.unregister = null;
  }

  /**
   * A failure's status leads with the reason (the recipient would push it past what the editor shows); the whole
   * story of a dead-lettered delivery goes to the debug sidebar too.
   */
  private showResult(result: DeliveryResult): void {
    showDeliveryResult(this.status, result);
    if (result.outcome === 'dead') {
      this.node.warn(`mail of alert ${result.delivery.alertId} to ${result.delivery.target} dead-lettered: ${result.error ?? 'no reason recorded'}`);
    }
  }
}
