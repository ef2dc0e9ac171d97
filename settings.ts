import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from './core/log/logger';
import type { GlimpserHandles } from './nodes/shared/handles';
import { sendError } from './runtime/api/errors';
import type { Authenticator } from './runtime/auth/middleware';
import type { UserStore } from './runtime/stores/users';

/** The package root: Node-RED loads Glimpser's nodes from here through `nodesDir`, without copying them. */
export const PACKAGE_ROOT = path.resolve(__dirname, __dirname.endsWith(`${path.sep}dist`) ? '..' : '.');

export interface NodeRedSettingsInput {
  userDir: string;
  credentialSecret: string;
  users: UserStore;
  /** Issues and checks the editor's tokens (the API's bearer tokens) and holds the shared sign-in limit. */
  auth: Authenticator;
  logger: Logger;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  handles: GlimpserHandles;
}

interface NodeRedLogMessage {
  level: number;
  msg?: unknown;
  type?: string;
  id?: string;
  name?: string;
}

function permissionsFor(role: string): string {
  return role === 'admin' ? '*' : 'read';
}

/** Routes Node-RED's log records into Glimpser's structured logger (levels: 20 error, 30 warn, 40 info, 50+ debug). */
function logHandler(logger: Logger) {
  return () => (record: NodeRedLogMessage) => {
    const fields = { component: 'node-red', nodeType: record.type, nodeId: record.id, nodeName: record.name };
    const text = record.msg instanceof Error ? record.msg.message : typeof record.msg === 'string' ? record.msg : JSON.stringify(record.msg);
    if (record.level <= 20) logger.error(fields, text);
    else if (record.level <= 30) logger.warn(fields, text);
    else if (record.level <= 40) logger.info(fields, text);
    else logger.debug(fields, text);
  };
}

/**
 * The editor signs in with Glimpser's own bearer tokens instead of Node-RED's sessions: `authenticate` hands Node-RED
 * a token to give the editor (Node-RED passes a user's `token` through instead of creating a session), and `tokens`
 * checks it on every request. So a password or role change, or signing out, ends editor sessions exactly as it ends
 * API tokens (finding 7). `users` answers null: Node-RED would call it, per request, only for a session of its own
 * (say from .sessions.json written before this version), and it cannot see which session asks, so none is honoured.
 */
function editorAuth(input: NodeRedSettingsInput): Record<string, unknown> {
  return {
    type: 'credentials',
    users: async () => null,
    authenticate: async (login: string, password: string) => {
      const user = await input.users.verify(usernameOf(login), password);
      return user ? { username: user.username, permissions: permissionsFor(user.role), token: input.auth.issue(user.username).token } : null;
    },
    tokens: async (token: string) => {
      const principal = input.auth.verifyToken(token)?.principal;
      return principal ? { username: principal.username, permissions: permissionsFor(principal.role) } : null;
    },
  };
}

/**
 * Node-RED keeps its own count of sign-ins per username (more than 5 in 10 minutes refuses even the right password),
 * which would let anyone lock a user out of the editor. The token request's username is sent on as
 * `username\naddress`, so that count is per username and address like Glimpser's own; `authenticate` takes the
 * username back. A newline cannot be part of a username, and what comes after the last one is the address.
 */
const ADDRESS_SEPARATOR = '\n';

function usernameOf(login: string): string {
  const at = login.lastIndexOf(ADDRESS_SEPARATOR);
  return at < 0 ? login : login.slice(0, at);
}

/**
 * Runs in front of every editor route. Node-RED gives `authenticate` no client address, so the shared limit is applied
 * here, where the request is: the token request is counted before Node-RED checks the password and settled by its
 * answer. It also signs the editor's token out when the editor's "log out" (POST /auth/revoke) succeeds.
 */
function editorSignInLimit(auth: Authenticator): Router {
  const router = express.Router();
  // Node-RED's own body parser skips a body already parsed here.
  router.post(
    '/auth/token',
    express.urlencoded({ extended: false, limit: '16kb' }),
    express.json({ limit: '16kb' }),
    (req: Request, res: Response, next: NextFunction) => {
      const username: unknown = (req.body as Record<string, unknown> | undefined)?.username;
      if (typeof username !== 'string') return next();
      const ticket = auth.gate.begin(username, req.ip ?? '', 'editor');
      if (!ticket.ok) {
        const seconds = Math.max(1, Math.ceil(ticket.retryAfterMs / 1000));
        res.setHeader('Retry-After', String(seconds));
        sendError(res, 429, 'too_many_attempts', `too many failed sign-ins (${ticket.reason}); try again in ${seconds} s`);
        return;
      }
      res.on('close', () => ticket.finish(res.statusCode === 200));
      (req.body as Record<string, unknown>).username = `${username}${ADDRESS_SEPARATOR}${req.ip ?? ''}`;
      next();
    },
  );
  router.post('/auth/revoke', (req: Request, res: Response, next: NextFunction) => {
    const token = auth.tokenOf(req);
    if (token)
      res.on('finish', () => {
        if (res.statusCode === 200) auth.signOut(token).catch(() => undefined);
      });
    next();
  });
  return router;
}

/** Builds the settings object for the embedded Node-RED from Glimpser's validated configuration. */
export function buildNodeRedSettings(input: NodeRedSettingsInput): Record<string, unknown> {
  return {
    userDir: input.userDir,
    flowFile: 'flows.json',
    flowFilePretty: true,
    credentialSecret: input.credentialSecret,
    nodesDir: [PACKAGE_ROOT],
    httpAdminRoot: '/editor',
    httpNodeRoot: '/hooks',
    adminAuth: editorAuth(input),
    httpAdminMiddleware: editorSignInLimit(input.auth),
    externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false }, modules: { allowInstall: false } },
    functionExternalModules: false,
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: true, ui: true },
    runtimeState: { enabled: false },
    editorTheme: {
      page: { title: 'Glimpser' },
      header: { title: 'Glimpser' },
      projects: { enabled: false },
      tours: false,
    },
    logging: { glimpser: { level: input.logLevel === 'error' ? 'error' : input.logLevel, metrics: false, audit: false, handler: logHandler(input.logger) } },
    glimpser: input.handles,
  };
}
