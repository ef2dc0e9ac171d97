import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a signed snapshot link works: long enough for an MMS to be fetched and a message read days later. */
export const MEDIA_LINK_TTL_MS = 7 * 24 * 3600_000;

export type MediaLinkCheck = 'ok' | 'expired' | 'invalid';

/**
 * Signed, expiring links to an event's snapshot, for those who fetch it without signing in: Twilio fetching an MMS
 * picture, a webhook receiver, a mail client. The link names one event and an expiry and carries an HMAC-SHA256 of
 * both under a secret of this install (secrets.json), so it opens that one picture until then and nothing else;
 * rotating the secret revokes every link.
 */
export class MediaLinks {
  constructor(
    private readonly secret: string,
    private readonly ttlMs = MEDIA_LINK_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    if (secret.length < 32) throw new Error('media link secret: expected at least 32 characters');
  }

  /** `/api/media/events/<id>/snapshot.jpg?expires=<unix s>&sig=<base64url>`: relative to Glimpser's public address. */
  snapshotPath(eventId: string): string {
    const expires = Math.floor((this.now() + this.ttlMs) / 1000);
    return `/api/media/events/${encodeURIComponent(eventId)}/snapshot.jpg?expires=${expires}&sig=${this.sign(eventId, expires)}`;
  }

  /** Whether `sig` was made here for this event and expiry, and the expiry has not passed. */
  check(eventId: string, expires: number, sig: string): MediaLinkCheck {
    const expected = Buffer.from(this.sign(eventId, expires));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    return expires * 1000 > this.now() ? 'ok' : 'expired';
  }

  private sign(eventId: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`snapshot\0${eventId}\0${expires}`).digest('base64url');
  }
}

/** The snapshot link for an alert on a public base address, or null when there is nothing (or no way) to link. */
export function snapshotLink(alert: { eventId: string | null; snapshot: unknown }, baseUrl: string | null, links: MediaLinks | undefined): string | null {
  if (!baseUrl || !alert.snapshot || !alert.eventId || !links) return null;
  return `${baseUrl.replace(/\/+$/, '')}${links.snapshotPath(alert.eventId)}`;
}
