/**
 * The one limit on password guessing that HTTP sign-in, HTTP Basic, the Node-RED editor and the MQTT broker share.
 * An attempt is counted *before* the slow password hash, so many concurrent guesses cannot slip past the limit, and
 * the limits key on (username, address) and on the address alone, so that one address failing never refuses a valid
 * credential from another (nor locks a user out everywhere).
 */
export type SignInTicket =
  | {
      ok: true;
      /** Call once the credential was checked; a success clears that username's failures from that address. */
      finish(success: boolean): void;
    }
  | {
      ok: false;
      /** How long until an attempt is allowed again (for Retry-After and the MQTT log). */
      retryAfterMs: number;
      /** Which limit refused it, e.g. "5 per minute for this user from this address". */
      reason: string;
    };

export interface SignInGate {
  /** Asks to check one credential of `username` (or '' when there is none, e.g. a bearer token) from `address`. */
  begin(username: string, address: string, channel: 'http' | 'editor' | 'mqtt'): SignInTicket;
}
