import { AsyncLocalStorage } from 'node:async_hooks';
import type { Agent } from 'node:https';
import twilio from 'twilio';
import type { RequestOptions } from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';
import { DeliveryError, type Channel, type Delivery, type DeliveryJob, type DeliveryResult, type StoredAlert } from '../index';
import { snapshotLink, type MediaLinks } from '../media-links';

/** Where the official SDK sends requests unless told otherwise. */
export const TWILIO_API_BASE_URL = 'https://api.twilio.com';
/** Twilio refuses a body longer than this (concatenated segments). */
export const SMS_MAX_LENGTH = 1600;
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;
export const MESSAGING_SERVICE_PATTERN = /^MG[0-9a-fA-F]{32}$/;
export const TEMPLATE_FIELDS = ['headline', 'camera', 'time', 'severity'] as const;

/**
 * Twilio error codes that no retry can fix: the number is invalid, not a mobile, opted out (STOP), in a region the
 * account may not reach, or the sender itself is wrong. https://www.twilio.com/docs/api/errors
 */
const PERMANENT_CODES = new Set([21211, 21214, 21217, 21401, 21407, 21408, 21421, 21601, 21602, 21603, 21606, 21610, 21612, 21614, 21617, 21659, 21660]);
const AUTH_CODES = new Set([20003, 20005, 20404]);

/** Plain http is for a Twilio stand-in on this machine; credentials never cross a network in the clear. */
export function checkApiBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`Twilio API base URL ${JSON.stringify(value)} is not a URL: expected e.g. ${TWILIO_API_BASE_URL}`);
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`Twilio API base URL ${JSON.stringify(value)} must be https (plain http only for 127.0.0.1, [::1] or localhost)`);
  }
  return url;
}

export interface TwilioAccountOptions {
  accountSid: string;
  /** Either the account's auth token, or an API key (sid and secret) of the same account. */
  authToken?: string;
  apiKeySid?: string;
  apiKeySecret?: string;
  apiBaseUrl?: string;
  timeoutMs?: number;
}

interface Recorded {
  headers?: Record<string, unknown>;
}

/**
 * The SDK's own HTTP client, keeping each response's headers for the send that asked: the SDK's errors drop them,
 * and a 429's Retry-After is in a header. One client serves every concurrent send, so each send runs in its own
 * AsyncLocalStorage context rather than reading a shared "last response".
 */
class HeaderKeepingClient extends twilio.RequestClient {
  constructor(
    private readonly recorded: AsyncLocalStorage<Recorded>,
    timeout: number,
  ) {
    super({ timeout });
  }

  override async request<TData>(opts: RequestOptions<TData>): Promise<Response<TData>> {
    const response = await super.request(opts);
    const store = this.recorded.getStore();
    if (store) store.headers = response.headers as Record<string, unknown>;
    return response;
  }
}

export interface SentMessage {
  sid: string;
  status: string;
  statusCode: number;
}

export interface MessageRequest {
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  mediaUrl?: string[];
}

/** One Twilio account reached through the official SDK: what a glimpser-twilio config node holds. */
export class TwilioAccount {
  /** The API host, for the delivery worker's breaker (one circuit per host). */
  readonly host: string;
  private readonly client: twilio.Twilio;
  private readonly httpClient: HeaderKeepingClient;
  private readonly recorded = new AsyncLocalStorage<Recorded>();

  constructor(options: TwilioAccountOptions) {
    const base = checkApiBaseUrl(options.apiBaseUrl ?? TWILIO_API_BASE_URL);
    this.host = base.host;
    this.httpClient = new HeaderKeepingClient(this.recorded, options.timeoutMs ?? 15000);
    const [username, password] = options.apiKeySid ? [options.apiKeySid, options.apiKeySecret] : [options.accountSid, options.authToken];
    this.client = twilio(username, password, { accountSid: options.accountSid, httpClient: this.httpClient });
    // The SDK's domains take their base URL as a property; a Twilio stand-in on loopback is reached by changing it.
    this.client.api.baseUrl = base.href.replace(/\/+$/, '');
  }

  /** Sends one message; a refusal or failure is a DeliveryError saying whether a retry could help. */
  async sendMessage(request: MessageRequest): Promise<SentMessage> {
    const recorded: Recorded = {};
    try {
      const { body, statusCode } = await this.recorded.run(recorded, () => this.client.messages.createWithHttpInfo(request));
      return { sid: body.sid, status: body.status, statusCode };
    } catch (err) {
      throw classifyTwilioError(err, request.to, recorded.headers);
    }
  }

  /** Closes the SDK's sockets with the config node, rather than leaving them to time out after a redeploy. */
  close(): void {
    (this.httpClient.axios.defaults.httpsAgent as Agent | undefined)?.destroy();
  }
}

interface TwilioFailure {
  status?: number;
  code?: number | string;
  message?: string;
  moreInfo?: string;
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now; null when absent or unreadable. */
export function retryAfterMs(value: unknown, now = Date.now()): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Words a failed send and classifies it: Twilio's invalid-number and opt-out codes and a refused login are
 * permanent (a retry sends the same thing to the same refusal); 408, 429 (after Retry-After), 5xx and lost
 * connections are retried; other 4xx are permanent.
 */
export function classifyTwilioError(err: unknown, to: string, headers?: Record<string, unknown>): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const failure = (err ?? {}) as TwilioFailure;
  const status = typeof failure.status === 'number' ? failure.status : null;
  const code = Number(failure.code);
  const said = `${failure.message ?? String(err)}${failure.moreInfo ? ` (${failure.moreInfo})` : ''}`;
  if (status === null) return new DeliveryError(`Twilio could not be reached for ${to}: ${said}`, false);
  if (AUTH_CODES.has(code) || status === 401) {
    return new DeliveryError(
      `Twilio refused the credentials (error ${Number.isNaN(code) ? status : code}): check the account SID and auth token or API key in the glimpser-twilio node`,
      true,
      status,
    );
  }
  const what = `Twilio refused the SMS to ${to} (HTTP ${status}${Number.isNaN(code) ? '' : `, error ${code}`}): ${said}`;
  if (PERMANENT_CODES.has(code)) return new DeliveryError(what, true, status);
  if (status === 429) return new DeliveryError(what, false, status, retryAfterMs(headers?.['retry-after']));
  if (status === 408 || status >= 500) return new DeliveryError(what, false, status);
  return new DeliveryError(what, status >= 400, status);
}

export interface SmsSettings {
  /** An E.164 number of the account, or '' when a messaging service sends. */
  from: string;
  messagingServiceSid: string;
  /** The text, with {{headline}}, {{camera}}, {{time}} and {{severity}} filled in. */
  template: string;
  /** The longest text, in code points (an ellipsis ends a trimmed one). */
  maxLength: number;
  /** Glimpser's address as Twilio can reach it, for the snapshot as MMS media; null sends text only. */
  mediaBaseUrl: string | null;
  /** Signs the snapshot link Twilio fetches without signing in; without it the message goes as text only. */
  links?: MediaLinks;
}

/** Fills a template's {{field}} placeholders from the alert; placeholders that are not fields stay as written. */
export function smsText(template: string, alert: StoredAlert): string {
  const values: Record<(typeof TEMPLATE_FIELDS)[number], string> = {
    headline: alert.headline,
    camera: alert.camera,
    time: `${new Date(alert.sent).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    severity: alert.severity,
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => (name in values ? values[name as keyof typeof values] : whole));
}

/** Trims to `max` code points (never splitting an emoji's surrogate pair), ending a trimmed text with "…". */
export function trimText(text: string, max: number): string {
  const points = [...text.trim()];
  return points.length <= max
    ? points.join('')
    : `${points
        .slice(0, Math.max(0, max - 1))
        .join('')
        .trimEnd()}…`;
}

/** The snapshot's signed, expiring public link (Twilio fetches it without signing in), or null when there is none. */
export function mediaUrlOf(alert: StoredAlert, baseUrl: string | null, links: MediaLinks | undefined): string | null {
  return snapshotLink(alert, baseUrl, links);
}

/** SMS (or MMS with the snapshot) through a Twilio account: one delivery is one message to one number. */
export class SmsChannel implements Channel {
  readonly kind = 'sms' as const;

  constructor(
    private readonly account: TwilioAccount,
    private readonly settings: SmsSettings,
    /** The worker's report of each attempt (delivered, retry, dead), for the notifier's status line. */
    readonly onResult?: (result: DeliveryResult) => void,
  ) {
    if (!settings.from && !settings.messagingServiceSid) throw new Error('an SMS channel needs a from number or a messaging service SID');
  }

  hostOf(_delivery: Delivery): string {
    return this.account.host;
  }

  async send(job: DeliveryJob): Promise<{ statusCode?: number }> {
    const to = job.delivery.target;
    if (job.signal.aborted) throw new DeliveryError(`the SMS to ${to} was cancelled before it was sent`, false);
    const media = mediaUrlOf(job.alert, this.settings.mediaBaseUrl, this.settings.links);
    const sent = await this.account.sendMessage({
      to,
      ...(this.settings.messagingServiceSid ? { messagingServiceSid: this.settings.messagingServiceSid } : { from: this.settings.from }),
      body: trimText(smsText(this.settings.template, job.alert), this.settings.maxLength),
      ...(media ? { mediaUrl: [media] } : {}),
    });
    return { statusCode: sent.statusCode };
  }
}
