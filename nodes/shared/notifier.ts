import type { AlertService, ChannelKind, DeliveryResult, StoredAlert } from '../../core/alerts';
import type { Status } from './node-kit';

/**
 * What every notify-* node does alike, written once. Each notifier's locale has the status keys used here: `queued`
 * (__count__, __camera__), and `delivered`, `retrying`, `dead` (__to__, __time__, __status__, __error__).
 */

/** The time of day a result happened, for the status line (the node's zone is the machine's). */
export function clock(at: number): string {
  return new Date(at).toTimeString().slice(0, 8);
}

/** Stores the alert with one delivery per target in one transaction and waits until it is on disk: from there the outbox owns them. */
export async function enqueueAlert(
  alerts: AlertService,
  status: Status,
  channel: ChannelKind,
  notifier: string,
  targets: readonly string[],
  alert: StoredAlert,
): Promise<void> {
  const deliveries = await alerts.enqueue(
    alert,
    targets.map((target) => ({ channel, notifier, target })),
  );
  status.show('connecting', 'queued', { count: deliveries.length, camera: alert.camera });
}

/** The worker's last result for this notifier, in its status line. */
export function showDeliveryResult(status: Status, { delivery, outcome, error, at, statusCode }: DeliveryResult): void {
  const params = { to: delivery.target, time: clock(at), status: statusCode ?? '', error: error ?? '' };
  if (outcome === 'delivered') status.show('online', 'delivered', params);
  else if (outcome === 'retry') status.show('connecting', 'retrying', params);
  else status.show('error', 'dead', params);
}
