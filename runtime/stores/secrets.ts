import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { PrivateJsonFile } from './private-json-file';

export interface Secrets {
  /** Encrypts Node-RED flow credentials. */
  credentialSecret: string;
  /** Signs bearer tokens issued by POST /api/auth/login. */
  tokenSecret: string;
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
  };
  if (stored.credentialSecret !== secrets.credentialSecret || stored.tokenSecret !== secrets.tokenSecret) await file.write(secrets);
  return configuredCredentialSecret ? { ...secrets, credentialSecret: configuredCredentialSecret } : secrets;
}
