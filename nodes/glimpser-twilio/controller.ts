import { TwilioAccount } from '../../core/alerts/channels/sms';
import type { NodeBehaviour } from '../shared/node-kit';
import type { TwilioConfig } from './schema';

export interface TwilioCredentials {
  accountSid?: string;
  authToken?: string;
  apiKeySid?: string;
  apiKeySecret?: string;
}

/** What notify-sms nodes may ask of the glimpser-twilio node they picked. */
export interface TwilioService {
  /** Nothing wrong, just no credentials yet: the reason, else null. */
  readonly notConfigured: string | null;
  /** The account, once credentials are there. */
  readonly account: TwilioAccount | null;
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const API_KEY_SID = /^SK[0-9a-fA-F]{32}$/;

/**
 * The behaviour of a glimpser-twilio config node: one SDK client for every notify-sms node that picks it, or the
 * reason there is none yet. A credential of the wrong shape throws (the kit reports it naming the credential); no
 * credentials at all is "not configured", which notify-sms nodes show without an error.
 */
export class TwilioController implements TwilioService, NodeBehaviour {
  readonly notConfigured: string | null = null;
  readonly account: TwilioAccount | null = null;

  constructor(config: TwilioConfig, credentials: TwilioCredentials) {
    const accountSid = credentials.accountSid?.trim() ?? '';
    const authToken = credentials.authToken?.trim() ?? '';
    const apiKeySid = credentials.apiKeySid?.trim() ?? '';
    const apiKeySecret = credentials.apiKeySecret?.trim() ?? '';
    if (!accountSid && !authToken && !apiKeySid) {
      this.notConfigured = 'no Twilio account SID: add it with an auth token or API key in the glimpser-twilio node';
      return;
    }
    if (!ACCOUNT_SID.test(accountSid)) throw new Error('credential "accountSid" must be AC followed by 32 hex digits (the Account SID in the Twilio console)');
    if (apiKeySid && !API_KEY_SID.test(apiKeySid)) throw new Error('credential "apiKeySid" must be SK followed by 32 hex digits (an API key SID)');
    if (apiKeySid && !apiKeySecret) throw new Error('credential "apiKeySecret" is missing: an API key needs its secret');
    if (!apiKeySid && !authToken) throw new Error('credential "authToken" is missing: give the auth token, or an API key SID and secret');
    this.account = new TwilioAccount({
      accountSid,
      ...(apiKeySid ? { apiKeySid, apiKeySecret } : { authToken }),
      apiBaseUrl: config.apiBaseUrl,
      timeoutMs: Math.round(config.timeout * 1000),
    });
  }

  close(): void {
    this.account?.close();
  }
}
