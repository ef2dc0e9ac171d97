import path from 'node:path';
import type { Logger } from './core/log/logger';
import type { GlimpserHandles } from './nodes/shared/handles';
import type { UserStore } from './runtime/stores/users';

/** The package root: Node-RED loads Glimpser's nodes from here through `nodesDir`, without copying them. */
export const PACKAGE_ROOT = path.resolve(__dirname, __dirname.endsWith(`${path.sep}dist`) ? '..' : '.');

export interface NodeRedSettingsInput {
  userDir: string;
  credentialSecret: string;
  users: UserStore;
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
    adminAuth: {
      type: 'credentials',
      users: async (username: string) => {
        const user = input.users.get(username);
        return user ? { username: user.username, permissions: permissionsFor(user.role) } : null;
      },
      authenticate: async (username: string, password: string) => {
        const user = await input.users.verify(username, password);
        return user ? { username: user.username, permissions: permissionsFor(user.role) } : null;
      },
    },
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
