import type { Node, NodeAPI } from 'node-red';
import type { AlertService, DeliveryResult } from '../../core/alerts';
import { checkAuthorization, generateWebhookSecret, parseWebhookHeaders, WebhookChannel } from '../../core/alerts/channels/webhook';
import type { AlertMessage } from '../../core/messages';
import { checkWebUrl, checkWebUrlResolved } from '../../core/net/url-policy';
import type { NodeBehaviour, NodeContext, Status } from '../shared/node-kit';
import { allowHostsOf, type NotifyWebhookConfig } from './schema';
import { clock } from '../shared/notifier';

export interface NotifyWebhookCredentials {
  secret?: string;
  authorization?: string;
}

/**
 * The behaviour of a notify-webhook node: registers its webhook channel with the alert outbox under the node's id,
 * and turns each alert message into one delivery to its URL, written to the outbox before the message is done. The
 * worker sends it later (and again, until it is delivered or dead-lettered); the status shows whether the node is
 * configured, a URL the policy refuses, and the last delivery result.
 */
export class NotifyWebhookController implements NodeBehaviour<AlertMessage> {
  private readonly node: Node;
  private readonly config: NotifyWebhookConfig;
  private readonly alerts: AlertService | undefined;
  private readonly status: Status;
  private readonly channel: WebhookChannel;
  private readonly unregister: () => void;

  constructor({ RED, node, config, handles, status }: NodeContext<NotifyWebhookConfig>) {
    this.node = node;
    this.config = config;
    this.alerts = handles.alerts;
    this.status = status;
    const credentials = (node.credentials ?? {}) as NotifyWebhookCredentials;
    const allowHosts = allowHostsOf(config);
    this.channel = new WebhookChannel(
      {
        format: config.format,
        includeSnapshot: config.includeSnapshot,
        publicUrl: config.publicUrl,
        links: handles.mediaLinks,
        headers: parseWebhookHeaders(config.headers),
        allowHosts,
        secret: credentials.secret || this.newSecret(RED, credentials),
        authorization: credentials.authorization ? checkAuthorization(credentials.authorization) : undefined,
      },
      (result) => this.showResult(result),
    );
    this.unregister = this.alerts?.registerChannel(node.id, Object.assign(this.channel, { testTargets: () => [config.url] })) ?? (() => {});
    this.checkUrl(allowHosts);
  }

  /** Writes one delivery of the alert to this node's URL into the outbox (the alert row too, if it is new). */
  async input(msg: AlertMessage): Promise<void> {
    if (!this.alerts) throw new Error('notify-webhook needs the alert outbox of the Glimpser runtime, which this Node-RED does not have');
    // Written even without a usable URL: the worker dead-letters it with the reason, so no alert goes unaccounted for.
    await this.alerts.enqueue(msg.alert, [{ channel: 'webhook', notifier: this.node.id, target: this.config.url }]);
  }

  close(): void {
    this.unregister();
    this.channel.close();
  }

  /**
   * A node without a secret (a new one, or an imported flow) gets one, kept with its credentials so that it stays the
   * same while the node lives; the editor shows a secret it made so it can be given to the receiver.
   */
  private newSecret(RED: NodeAPI, credentials: NotifyWebhookCredentials): string {
    const secret = generateWebhookSecret();
    RED.nodes
      .addCredentials(this.node.id, { ...credentials, secret })
      .catch((err: Error) => this.node.warn(`could not keep the new signing secret: ${err.message}`));
    return secret;
  }

  /** The URL's form at once, then its host name's addresses (a name may resolve to a refused address). */
  private checkUrl(allowHosts: string[]): void {
    const { url } = this.config;
    if (!url) return this.status.show('idle', 'notConfigured');
    try {
      checkWebUrl(url, { allowHosts }, 'url');
    } catch (err) {
      return this.refuse((err as Error).message);
    }
    this.status.show('online', 'ready', { host: new URL(url).host });
    checkWebUrlResolved(url, { allowHosts }, 'url').catch((err: Error) => {
      // A name that does not resolve now may later: only an address the policy refuses marks the URL blocked.
      if (/ resolves to /.test(err.message)) this.refuse(err.message);
    });
  }

  private refuse(reason: string): void {
    this.status.show('error', 'blocked', { reason });
  }

  /** The last attempt's result; an HTTP status alone when there was one (the status line has room for little). */
  private showResult(result: DeliveryResult): void {
    const time = clock(result.at);
    const code = result.statusCode;
    if (result.outcome === 'delivered') this.status.show('online', 'delivered', { code: code ?? '-', time });
    else if (result.outcome === 'retry' && code !== null) this.status.show('connecting', 'retryingStatus', { code, time });
    else if (result.outcome === 'retry') this.status.show('connecting', 'retrying', { time, error: result.error ?? '' });
    else if (code !== null) this.status.show('error', 'failedStatus', { code, time });
    else this.status.show('error', 'failed', { time, error: result.error ?? '' });
  }
}
