import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { checkWebUrl } from '../../net/url-policy';
import { DeliveryError, type Channel, type Delivery, type DeliveryJob, type DeliveryResult, type StoredAlert } from '../index';
import { httpStatusError, networkError } from './http';
import { BlockedAddressError, guardedLookup, signWebhook, webhookKey } from './webhook-request';
import { snapshotLink, type MediaLinks } from '../media-links';

export { generateWebhookSecret, parseWebhookHeaders, checkAuthorization, signWebhook } from './webhook-request';

export type WebhookFormat = 'json' | 'cap';

export interface WebhookSettings {
  format: WebhookFormat;
  /** JSON only: the snapshot's bytes inline, base64, in `data.snapshot.data`. */
  includeSnapshot: boolean;
  /** Glimpser's address as receivers reach it (e.g. https://glimpser.example.com): the snapshot's link is built on it. */
  publicUrl: string;
  /** Signs the snapshot link in the JSON so receivers can fetch it without signing in. */
  links?: MediaLinks;
  /** Custom headers, lower-case names (parseWebhookHeaders has checked them). */
  headers: Record<string, string>;
  /** Hosts the URL policy lets through although it would refuse them (like a website camera's allowHosts). */
  allowHosts: string[];
  /** `whsec_…`: signs every request. */
  secret: string;
  /** Sent as the Authorization header when set (a credential). */
  authorization?: string;
}

/** Larger bodies are refused: a receiver is not a file store, and a snapshot inline in base64 grows by a third. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** What is kept of an error answer's body to say why (the rest is not read). */
const DETAIL_BYTES = 2048;
const RECEIVER = 'the webhook receiver';

/**
 * The JSON body, in the Standard Webhooks envelope (`type`, `timestamp`, `data`): the alert's summary, the snapshot's
 * link when Glimpser's public address is known, and its bytes inline when asked and they fit.
 */
export function webhookJson(alert: StoredAlert, snapshot: Buffer | null, settings: Pick<WebhookSettings, 'includeSnapshot' | 'publicUrl' | 'links'>): Buffer {
  const sent = new Date(alert.sent).toISOString();
  // A signed, expiring link the receiver can fetch without signing in; the API path (which needs sign-in) without one.
  const base = settings.publicUrl.replace(/\/+$/, '');
  const url =
    snapshotLink(alert, base || null, settings.links) ??
    (base && alert.eventId && alert.snapshot ? `${base}/api/events/${encodeURIComponent(alert.eventId)}/snapshot.jpg` : null);
  const data = {
    id: alert.id,
    identifier: alert.identifier,
    msgType: alert.msgType,
    camera: alert.camera,
    eventId: alert.eventId,
    sent,
    headline: alert.headline,
    description: alert.description,
    severity: alert.severity,
    references: alert.references,
    snapshot: alert.snapshot ? { url, mimeType: 'image/jpeg', bytes: alert.snapshot.bytes } : null,
    snapshotMissing: alert.snapshotMissing,
  };
  const envelope = (snapshotData?: string) => ({
    type: `alert.${alert.msgType.toLowerCase()}`,
    timestamp: sent,
    data: snapshotData && data.snapshot ? { ...data, snapshot: { ...data.snapshot, data: snapshotData } } : data,
  });
  if (settings.includeSnapshot && snapshot && data.snapshot) {
    const inline = Buffer.from(JSON.stringify(envelope(snapshot.toString('base64'))));
    if (inline.length <= MAX_BODY_BYTES) return inline;
  }
  return Buffer.from(JSON.stringify(envelope()));
}

/** The URL a delivery goes to, checked against the URL policy; a refused one is a permanent failure with the reason. */
function targetOf(delivery: Delivery, allowHosts: string[]): URL {
  if (!delivery.target) throw new DeliveryError('the notify-webhook node has no URL: set one and retry the delivery', true);
  try {
    return checkWebUrl(delivery.target, { allowHosts }, 'url');
  } catch (err) {
    throw new DeliveryError((err as Error).message, true);
  }
}

/**
 * POSTs alerts to one receiver, signed per Standard Webhooks: `webhook-id` is the delivery's idempotency key (the
 * same on every retry, so receivers drop duplicates), `webhook-timestamp` the send time in seconds, and
 * `webhook-signature` the HMAC of both and the body. Redirects are not followed; connections are kept alive.
 */
export class WebhookChannel implements Channel {
  readonly kind = 'webhook' as const;
  private readonly key: Buffer;
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(
    private readonly settings: WebhookSettings,
    /** Told each attempt's result as the worker recorded it (the node shows the last one). */
    private readonly listener: (result: DeliveryResult) => void = () => {},
  ) {
    this.key = webhookKey(settings.secret);
  }

  hostOf(delivery: Delivery): string {
    try {
      return new URL(delivery.target).host;
    } catch {
      return '(no url)';
    }
  }

  async send(job: DeliveryJob): Promise<{ statusCode?: number }> {
    try {
      return { statusCode: await this.post(job) };
    } catch (err) {
      throw networkError(err, RECEIVER);
    }
  }

  onResult(result: DeliveryResult): void {
    this.listener(result);
  }

  /** Releases kept-alive connections (the node is closing). */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private body(job: DeliveryJob): { body: Buffer; contentType: string } {
    if (this.settings.format === 'cap') return { body: Buffer.from(job.alert.capXml, 'utf8'), contentType: 'application/cap+xml; charset=utf-8' };
    return { body: webhookJson(job.alert, job.snapshot, this.settings), contentType: 'application/json' };
  }

  private async post(job: DeliveryJob): Promise<number> {
    const url = targetOf(job.delivery, this.settings.allowHosts);
    const { body, contentType } = this.body(job);
    if (body.length > MAX_BODY_BYTES) throw new DeliveryError(`the alert is ${body.length} bytes, more than a webhook carries (${MAX_BODY_BYTES})`, true);
    const timestamp = Math.floor(Date.now() / 1000);
    const id = job.delivery.idempotencyKey;
    const headers: Record<string, string> = {
      ...this.settings.headers,
      ...(this.settings.authorization ? { authorization: this.settings.authorization } : {}),
      'user-agent': this.settings.headers['user-agent'] ?? 'Glimpser',
      'content-type': contentType,
      'content-length': String(body.length),
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(this.key, id, timestamp, body),
    };
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    // A name is checked as it is resolved for the connection; an IP literal was checked with the URL; an allowed host is let through.
    const guarded = !isIP(host) && !this.settings.allowHosts.map((h) => h.toLowerCase()).includes(host);
    const secure = url.protocol === 'https:';
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (secure ? https : http).request(url, {
        method: 'POST',
        headers,
        // The worker's deadline for the attempt: an unanswered request is abandoned and tried again later.
        signal: job.signal,
        agent: secure ? this.agents.https : this.agents.http,
        ...(guarded ? { lookup: guardedLookup('url') } : {}),
      });
      request.once('response', resolve);
      request.once('error', (err) => reject(err instanceof BlockedAddressError ? new DeliveryError(err.message, true) : err));
      request.end(body);
    });
    const detail = await excerpt(response);
    const failure = httpStatusError(response.statusCode ?? 0, response.headers, RECEIVER, detail);
    if (failure) throw failure;
    return response.statusCode ?? 200;
  }
}

/** The start of an answer's body, as one line, for the error message; a larger body is not read further. */
function excerpt(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => resolve(Buffer.concat(chunks).subarray(0, DETAIL_BYTES).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200));
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= DETAIL_BYTES) {
        response.destroy();
        finish();
      }
    });
    response.once('end', finish);
    response.once('error', finish);
    response.once('close', finish);
  });
}
