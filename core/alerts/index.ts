/**
 * Alerts that leave Glimpser: a CAP 1.2 alert (cap/) is written with one delivery per channel and target into a
 * persisted outbox (outbox.ts) in one transaction, before the message that raised it is acknowledged; a worker
 * (worker.ts) leases due deliveries and hands each to the channel that owns it (email, SMS, webhook, web push),
 * retrying with backoff and a circuit breaker per target host, dead-lettering what never succeeds — never dropping.
 * This file is the interface every part builds against; implementations sit beside it.
 */

/** The CAP message types Glimpser sends over an event's life: start → Alert, while it lasts → Update, end → Cancel. */
export type AlertMsgType = 'Alert' | 'Update' | 'Cancel';

/** One CAP alert as stored: what people and channels need without parsing the XML again. */
export interface StoredAlert {
  /** ULID; also the alert's idempotency root. */
  id: string;
  /** The CAP `<identifier>` (unique per sender). */
  identifier: string;
  msgType: AlertMsgType;
  /** `sender,identifier,sent` of the alert this one updates or cancels (CAP §3.2.1 references). */
  references: string | null;
  /** The journal event it is about, when there is one. */
  eventId: string | null;
  camera: string;
  /** Milliseconds since the epoch (CAP `<sent>`). */
  sent: number;
  headline: string;
  description: string;
  /** CAP severity: Extreme, Severe, Moderate, Minor, Unknown. */
  severity: string;
  /** The whole CAP 1.2 document, as validated. */
  capXml: string;
  /** The journal snapshot the alert shows, if any (path relative to the data dir), and whether it was waited for. */
  snapshot: { path: string; bytes: number } | null;
  snapshotMissing: string | null;
  /**
   * How the event's end goes out, as the cap-alert node that made the alert was set: a Cancel or an all-clear Update.
   * Kept so that the end of an event a crash interrupted goes out the same way (core/alerts/interrupted.ts).
   */
  endAs?: 'cancel' | 'allclear';
}

export type ChannelKind = 'email' | 'sms' | 'webhook' | 'push';

/** Where one delivery goes: a notifier (its node id) of a channel kind, and one target of that notifier. */
export interface DeliveryTarget {
  channel: ChannelKind;
  /** The notifier node's id: the worker finds the channel registered under it. */
  notifier: string;
  /** An address, number, URL or push-subscription id: what the channel sends to. */
  target: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface Delivery extends DeliveryTarget {
  id: string;
  alertId: string;
  /** Stable per alert and target, sent to receivers (e.g. the Standard Webhooks `webhook-id`) so they can dedupe. */
  idempotencyKey: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due (ms since epoch); a leased delivery is not due until its lease expires. */
  nextAttemptAt: number;
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

export type AttemptOutcome = 'delivered' | 'retry' | 'dead';

export interface DeliveryAttempt {
  deliveryId: string;
  at: number;
  durationMs: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  error: string | null;
}

/**
 * A failed send, classified by the channel: permanent failures (4xx but 408/429, an invalid phone number, a push
 * subscription that is gone) are dead-lettered at once; others are retried, after `retryAfterMs` when the service
 * said so (429 Retry-After).
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly statusCode: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** What a channel needs to send one delivery. */
export interface DeliveryJob {
  alert: StoredAlert;
  delivery: Delivery;
  /** The snapshot's bytes when the alert has one. */
  snapshot: Buffer | null;
  signal: AbortSignal;
}

/** One notifier's way out (a notify-* node registers one under its node id). Throws DeliveryError on failure. */
export interface Channel {
  kind: ChannelKind;
  /** The host a breaker guards (one circuit per target host), e.g. the webhook URL's host or the SMTP server. */
  hostOf(delivery: Delivery): string;
  send(job: DeliveryJob): Promise<{ statusCode?: number }>;
  /** Told the result of every attempt of this notifier's deliveries, so the node can show its last delivery result. */
  onResult?(result: DeliveryResult): void;
  /**
   * Where a test alert (POST /api/notifiers/:id/test) goes when the request names no target: the notifier's
   * configured targets (its URL, addresses, numbers). A channel without it is tested only with a target in the request.
   */
  testTargets?(): string[];
}

/** One attempt's result as the worker reports it to the channel (after it is recorded in the ledger). */
export interface DeliveryResult {
  /** The delivery as stored after the attempt: its status, attempts and last error. */
  delivery: Delivery;
  outcome: AttemptOutcome;
  statusCode: number | null;
  error: string | null;
  /** When the attempt started (ms since epoch). */
  at: number;
}

/** What nodes and the API use: the outbox with its worker. The runtime lends one to nodes (handles.alerts). */
export interface AlertService {
  /**
   * Writes the alert (if new) and its deliveries in one transaction; resolves with the deliveries as stored once they
   * are on disk (a group commit, one fsync per turn of the event loop). Acknowledge the message that raised the alert
   * only then. The worker may send them before that: delivery is at-least-once anyway.
   */
  enqueue(alert: StoredAlert, targets: DeliveryTarget[]): Promise<Delivery[]>;
  registerChannel(notifier: string, channel: Channel): () => void;
  getAlert(id: string): StoredAlert | null;
}
