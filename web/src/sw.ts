/// <reference lib="webworker" />
// The service worker: shows web push notifications from the notify-push node and opens the event's page on a click.
// It caches nothing: the app is served with hashed, long-cached file names already, and a stale cached shell would
// outlive a Glimpser upgrade.
import type { PushPayload } from '../../core/alerts/channels/push';

const worker = self as unknown as ServiceWorkerGlobalScope;

/** What a notification keeps for its click: the app page to open. */
interface NotificationData {
  url: string;
}

/** The payload as notify-push sends it (core/alerts/channels/push.ts); a message that is not one still shows something. */
function readPayload(event: PushEvent): Partial<PushPayload> {
  if (!event.data) return {};
  try {
    const value: unknown = event.data.json();
    return typeof value === 'object' && value !== null ? (value as Partial<PushPayload>) : {};
  } catch {
    return { body: event.data.text() };
  }
}

worker.addEventListener('install', () => {
  void worker.skipWaiting();
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(worker.clients.claim());
});

worker.addEventListener('push', (event) => {
  const payload = readPayload(event);
  // The event page (its snapshot, description and alerts) when the alert is about an event, else the alert's page.
  const url = payload.eventId
    ? `/events/${encodeURIComponent(payload.eventId)}`
    : payload.alertId
      ? `/alerts/${encodeURIComponent(payload.alertId)}`
      : '/alerts';
  const data: NotificationData = { url };
  const title = payload.title || (payload.camera ? `Glimpser: ${payload.camera}` : 'Glimpser alert');
  event.waitUntil(
    worker.registration.showNotification(title, {
      body: payload.body ?? '',
      icon: '/icon-192.png',
      badge: '/icon-192.png',
      // One notification per event: its Update and Cancel replace the Alert's notification instead of piling up.
      tag: payload.eventId ? `event-${payload.eventId}` : payload.alertId ? `alert-${payload.alertId}` : undefined,
      timestamp: payload.time ? Date.parse(payload.time) : undefined,
      data,
    } as NotificationOptions),
  );
});

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const { url } = (event.notification.data ?? { url: '/alerts' }) as NotificationData;
  const target = new URL(url, worker.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
      // An open app window is reused (navigated to the alert) rather than opening a second app.
      const open = windows.find((client) => new URL(client.url).origin === worker.location.origin);
      if (open) {
        const focused = await open.focus();
        await focused.navigate(target).catch(() => worker.clients.openWindow(target));
        return;
      }
      await worker.clients.openWindow(target);
    })(),
  );
});
