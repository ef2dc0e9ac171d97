import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { generateVapidKeys, isVapidKeys, type VapidKeys } from '../../core/alerts/vapid';
import { PrivateJsonFile } from './private-json-file';

export interface Secrets {
  /** Encrypts Node-RED flow credentials. */
  credentialSecret: string;
  /** Signs bearer tokens issued by POST /api/auth/login. */
  tokenSecret: string;
  /** Signs Web Push requests (RFC 8292); browsers subscribe with its public key, so it must never change. */
  vapid: VapidKeys;
  /** Signs the expiring snapshot links in MMS, webhooks and mail (core/alerts/media-links.ts). */
  mediaLinkSecret: string;
}

/**
 * Loads `<dataDir>/secrets.json` (0600), generating missing secrets once. A configured credential secret wins over
 * the stored one, so operators can move it into their own secret store.
 */
export async function loadSecrets(dataDir: string, configuredCredentialSecret?: string): Promise<Secrets> {
  const file = new PrivateJsonFile<Partial<Secrets>>(path.join(dataDir, 'secrets.json'));
  const stored = (await file.read()) ?? {};
  const secrets: Secrets = {
    credentialSecret: stored.credentialSecret ?? randomBytes(32).toString('hex'),
    tokenSecret: stored.tokenSecret ?? randomBytes(32).toString('hex'),
    // Files written before web push lack the pair: it is added once, the other secrets kept as they were.
    vapid: isVapidKeys(stored.vapid) ? stored.vapid : generateVapidKeys(),
    mediaLinkSecret: stored.mediaLinkSecret ?? randomBytes(32).toString('hex'),
  };
  if (
    stored.credentialSecret !== secrets.credentialSecret ||
    stored.tokenSecret !== secrets.tokenSecret ||
    stored.vapid !== secrets.vapid ||
    stored.mediaLinkSecret !== secrets.mediaLinkSecret
  )
    await file.write({ ...stored, ...secrets });
  return configuredCredentialSecret ? { ...secrets, credentialSecret: configuredCredentialSecret } : secrets;
}
