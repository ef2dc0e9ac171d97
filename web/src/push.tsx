import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import './push.css';

/**
 * "Notifications on this browser": registers the service worker (/sw.js) on every signed-in page, and on a click
 * subscribes this browser to web push with Glimpser's VAPID key (the notify-push node then sends alerts to it), or
 * unsubscribes it. Push needs a secure context (https:, or http://localhost / 127.0.0.1) and the user's permission.
 */
type PushState = 'checking' | 'unsupported' | 'denied' | 'off' | 'on' | 'busy';

function supported(): boolean {
  return window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** The VAPID public key (base64url) as the bytes PushManager.subscribe wants. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

let registration: Promise<ServiceWorkerRegistration> | null = null;

/** Registers /sw.js once per page load; every control shares the one registration. */
export function serviceWorker(): Promise<ServiceWorkerRegistration> {
  registration ??= navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(() => navigator.serviceWorker.ready);
  return registration;
}

async function subscribe(): Promise<void> {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('denied');
  const ready = await serviceWorker();
  const { publicKey } = await api<{ publicKey: string }>('/push/vapid-public-key');
  const subscription =
    (await ready.pushManager.getSubscription()) ?? (await ready.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) }));
  try {
    await api('/push/subscriptions', { method: 'POST', body: subscription.toJSON() });
  } catch (err) {
    // Glimpser refused it: the browser keeps no subscription Glimpser does not know of.
    await subscription.unsubscribe();
    throw err;
  }
}

async function unsubscribe(): Promise<void> {
  const ready = await serviceWorker();
  const subscription = await ready.pushManager.getSubscription();
  if (!subscription) return;
  await api('/push/subscriptions', { method: 'DELETE', body: { endpoint: subscription.endpoint } }).catch(() => undefined);
  await subscription.unsubscribe();
}

const MESSAGES: Record<PushState, string> = {
  checking: 'Checking notifications…',
  unsupported: 'This browser cannot receive push notifications here (it needs https: and a browser with web push).',
  denied: 'Notifications are blocked for this site: allow them in the browser’s site settings, then try again.',
  off: 'Alerts are not sent to this browser.',
  on: 'Alerts are sent to this browser as notifications.',
  busy: 'Working…',
};

export function PushToggle() {
  const [state, setState] = useState<PushState>('checking');
  const [note, setNote] = useState<string | null>(null);

  useEffect(() => {
    if (!supported()) {
      setState('unsupported');
      return;
    }
    let live = true;
    serviceWorker()
      .then((ready) => ready.pushManager.getSubscription())
      .then(
        (subscription) => live && setState(Notification.permission === 'denied' ? 'denied' : subscription ? 'on' : 'off'),
        () => live && setState('unsupported'),
      );
    return () => {
      live = false;
    };
  }, []);

  const toggle = async () => {
    if (state === 'unsupported' || state === 'denied') {
      setNote(note ? null : MESSAGES[state]);
      return;
    }
    const wasOn = state === 'on';
    setState('busy');
    setNote(null);
    try {
      if (wasOn) await unsubscribe();
      else await subscribe();
      setState(wasOn ? 'off' : 'on');
      setNote(wasOn ? 'Notifications turned off for this browser.' : 'Notifications turned on: alerts will appear on this browser.');
    } catch (err) {
      const denied = (err as Error).message === 'denied' || Notification.permission === 'denied';
      setState(denied ? 'denied' : wasOn ? 'on' : 'off');
      setNote(denied ? MESSAGES.denied : `Could not ${wasOn ? 'turn off' : 'turn on'} notifications: ${(err as Error).message}`);
    }
  };

  const on = state === 'on';
  return (
    <span class="push" data-testid="push" data-state={state}>
      <button
        type="button"
        class={`push-toggle ${on ? '' : 'secondary'}`}
        aria-pressed={state === 'on' || state === 'off' ? on : undefined}
        disabled={state === 'checking' || state === 'busy'}
        title={MESSAGES[state]}
        onClick={() => void toggle()}
      >
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
          <path d="M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6Zm-2 15a2 2 0 0 0 4 0" fill="none" stroke="currentColor" stroke-width="2" />
          {!on && <path d="M4 4l16 16" stroke="currentColor" stroke-width="2" />}
        </svg>
        <span class="sr-only">Notifications on this browser</span>
      </button>
      {note && (
        <span class="push-note" role="status">
          {note}
          <button type="button" class="link" onClick={() => setNote(null)}>
            Close
          </button>
        </span>
      )}
    </span>
  );
}
