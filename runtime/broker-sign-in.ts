import type { AuthenticateError } from 'aedes';
import type { DeviceRegistry } from '../core/capture/devices';
import type { Logger } from '../core/log/logger';
import { metrics } from '../core/metrics';
import type { Principal, Role } from './auth/roles';
import type { SignInGate } from './auth/sign-in-gate';
import type { Session } from './broker-access';
import { logField } from './mqtt-log-fields';

/** What the broker needs of the user store: its `verify` (a store that knows no camera lists leaves `cameras` out: all). */
export interface BrokerUsers {
  verify(username: string, password: string): Promise<{ username: string; role: Role; cameras?: readonly string[] | null } | null>;
  /**
   * With these three (the UserStore has them), a password connection is closed once its user's password, role or
   * cameras change or the user is deleted: the store's generation when it signed in no longer holds.
   */
  generation?(): number;
  tokenValid?(username: string, session: string, generation: number): boolean;
  onTokensRevoked?(listener: () => void): () => void;
}

export interface SignInDependencies {
  users: BrokerUsers;
  devices: DeviceRegistry;
  log: Logger;
  signInGate?: SignInGate;
  verifyKey?: (secret: string) => Principal | null;
}

/** CONNACK 0x04 (bad user name or password) or 0x05 (not authorized), as aedes maps `returnCode` (MQTT 3.1.1 §3.2.2.3). */
function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * Checks one CONNECT's credentials: a device login, an API key given as the password, or a user's password. The
 * shared sign-in gate is asked first, so a refused attempt costs no hash and concurrent guesses are all counted.
 */
export async function signIn(
  deps: SignInDependencies,
  connection: { clientId: string; address: string },
  username: string | undefined,
  password: Buffer | undefined,
): Promise<{ session: Session } | { error: AuthenticateError }> {
  const who = { clientId: logField(connection.clientId), username: logField(username), address: connection.address };
  if (!username || !password) {
    metrics.mqttAuthFailuresTotal.inc({ reason: 'anonymous' });
    deps.log.info(who, 'mqtt connection without credentials refused');
    return { error: authError('bad username or password', 4) };
  }
  const ticket = deps.signInGate?.begin(username, connection.address, 'mqtt');
  if (ticket?.ok === false) {
    metrics.mqttAuthFailuresTotal.inc({ reason: 'rate_limited' });
    deps.log.warn({ ...who, retryAfterMs: ticket.retryAfterMs, limit: ticket.reason }, 'mqtt sign-in refused: too many failed attempts');
    return { error: authError('too many failed sign-ins', 5) };
  }
  let session: Session | null = null;
  try {
    session = await verify(deps, username, password);
  } finally {
    ticket?.finish(session !== null);
  }
  if (session === null) {
    metrics.mqttAuthFailuresTotal.inc({ reason: 'credentials' });
    deps.log.info(who, 'mqtt connection with wrong credentials refused');
    return { error: authError('bad username or password', 4) };
  }
  if (session.kind === 'device') deps.log.info({ ...who, camera: session.camera }, 'edge device connected');
  return { session };
}

async function verify(deps: SignInDependencies, username: string, password: Buffer): Promise<Session | null> {
  // A device login is checked first: it grants less than a user, so a name used by both cannot gain by it.
  const camera = deps.devices.verify(username, password);
  if (camera !== null) return { kind: 'device', username, camera };
  const secret = password.toString('utf8');
  const key = deps.verifyKey?.(secret) ?? null;
  if (key !== null) return { kind: 'user', principal: key };
  const user = await deps.users.verify(username, secret);
  if (!user) return null;
  return { kind: 'user', principal: { username: user.username, role: user.role, cameras: user.cameras ?? null, via: 'password' } };
}
