/// <reference lib="webworker" />
// The service worker: shows web push notifications from the notify-push node and opens the event page on a click.
export {};
