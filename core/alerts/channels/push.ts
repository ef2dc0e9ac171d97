import { createHash } from 'node:crypto';
import type { Agent } from 'node:https';
import webpush, { WebPushError } from 'web-push';
import { DeliveryError, type Channel, type DeliveryJob, type DeliveryResult, type StoredAlert } from '../index';
import type { PushSubscriptionStore } from '../push-subscriptions';
import { checkVapidSubject, type VapidKeys } from '../vapid';

/**
 * The largest plaintext one push message carries: push services accept 4096 bytes of body (RFC 8030 §7.2), of which
 * aes128gcm takes a 86-byte header (salt, record size, key id), a 16-byte tag and a 1-byte padding delimiter
 * (RFC 8291 §4, RFC 8188 §2).
 */
export const MAX_PUSH_PLAINTEXT = 4096 - 86 - 16 - 1;

/** What the service worker receives: enough to show a notification and link to the alert. */
export interface PushPayload {
  title: string;
  body: string;
  camera: string;
  alertId: string;
  /** The journal event the alert is about (the web app opens its page on a click), or null. */
  eventId: string | null;
  /** The alert's CAP `<sent>` time, ISO 8601. */
  time: string;
}

/** The alert as a push payload, its body (then headline) shortened so the JSON fits one push message. */
export function pushPayload(alert: StoredAlert, limit = MAX_PUSH_PLAINTEXT): string {
  const payload: PushPayload = {
    title: alert.headline,
    body: alert.description,
    camera: alert.camera,
    alertId: alert.id,
    eventId: alert.eventId,
    time: new Date(alert.sent).toISOString(),
  };
  let text = JSON.stringify(payload);
  for (const field of ['body', 'title'] as const) {
    const excess = Buffer.byteLength(text) - limit;
    if (excess <= 0) break;
    payload[field] = shorten(payload[field], excess);
    text = JSON.stringify(payload);
  }
  if (Buffer.byteLength(text) > limit) throw new DeliveryError(`push payload of alert ${alert.id} cannot fit ${limit} bytes`, true);
  return text;
}

/** Drops whole characters from the end until the JSON text is `excess` bytes shorter (escapes counted), adding "…". */
function shorten(value: string, excess: number): string {
  const chars = [...value];
  let saved = 2 - Buffer.byteLength(JSON.stringify('…'));
  while (chars.length > 0 && saved < excess) saved += Buffer.byteLength(JSON.stringify(chars.pop())) - 2;
  return `${chars.join('')}…`;
}

/** CAP severity → RFC 8030 §5.3 urgency: the push service may hold low-urgency messages back on a sleeping phone. */
export function urgencyOf(severity: string): webpush.Urgency {
  if (severity === 'Extreme' || severity === 'Severe') return 'high';
  if (severity === 'Minor') return 'low';
  return 'normal';
}

/**
 * RFC 8030 §5.4 topic: a newer message for the same camera replaces one still queued for an offline browser. Topics
 * are at most 32 base64url characters, so the camera id is hashed.
 */
export function topicOf(camera: string): string {
  return createHash('sha256').update(`glimpser-camera:${camera}`).digest('base64url').slice(0, 32);
}

export interface PushChannelOptions {
  subscriptions: PushSubscriptionStore;
  keys: VapidKeys;
  subject: string;
  /** Seconds a push service keeps a message for an offline browser. */
  ttl: number;
  /** The TLS agent for push-service connections (tests trust their loopback service's certificate with it). */
  agent?: Agent;
  timeoutMs?: number;
  /** The worker tells it every attempt's result (the node shows the last one in its status). */
  onResult?(result: DeliveryResult): void;
}

/** Parses Retry-After (RFC 9110 §10.2.3): seconds, or an HTTP date. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A push service's refusal, classified: a gone subscription or an oversized payload never succeeds on retry. */
function classify(err: unknown, subscriptionId: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (!(err instanceof WebPushError)) return new DeliveryError(`push service unreachable: ${(err as Error).message}`, false);
  const status = err.statusCode;
  const said = typeof err.body === 'string' && err.body.trim() ? `: ${err.body.trim().slice(0, 200)}` : '';
  if (status === 404 || status === 410) return new DeliveryError(`push subscription ${subscriptionId} is gone (${status}); removed`, true, status);
  if (status === 413) return new DeliveryError(`push service refused the payload as too large (413)${said}`, true, status);
  if (status === 429) return new DeliveryError(`push service is rate limiting (429)${said}`, false, status, retryAfterMs(err.headers['retry-after']));
  if (status === 408 || status >= 500) return new DeliveryError(`push service failed (${status})${said}`, false, status);
  return new DeliveryError(`push service refused the message (${status})${said}`, true, status);
}

/** Sends alerts as Web Push messages (RFC 8030, encrypted per RFC 8291, VAPID per RFC 8292) with the web-push library. */
export function createPushChannel(options: PushChannelOptions): Channel {
  return {
    kind: 'push',
    onResult: options.onResult,
    hostOf: (delivery) => {
      const endpoint = options.subscriptions.get(delivery.target)?.endpoint;
      return endpoint ? new URL(endpoint).host : 'push-subscription-removed';
    },
    async send(job: DeliveryJob) {
      const { alert, delivery } = job;
      const subscription = options.subscriptions.get(delivery.target);
      if (!subscription) throw new DeliveryError(`push subscription ${delivery.target} no longer exists`, true);
      let subject: string;
      try {
        subject = checkVapidSubject(options.subject);
      } catch (err) {
        throw new DeliveryError((err as Error).message, true);
      }
      if (job.signal.aborted) throw new DeliveryError('push delivery aborted before sending', false);
      const result = await webpush
        .sendNotification({ endpoint: subscription.endpoint, keys: subscription.keys }, pushPayload(alert), {
          vapidDetails: { subject, publicKey: options.keys.publicKey, privateKey: options.keys.privateKey },
          TTL: options.ttl,
          urgency: urgencyOf(alert.severity),
          topic: topicOf(alert.camera),
          contentEncoding: 'aes128gcm',
          timeout: options.timeoutMs ?? 30_000,
          ...(options.agent ? { agent: options.agent } : {}),
        })
        .catch((err: unknown) => {
          const classified = classify(err, subscription.id);
          if (classified.statusCode === 404 || classified.statusCode === 410) options.subscriptions.remove(subscription.id);
          throw classified;
        });
      return { statusCode: result.statusCode };
    },
  };
}
