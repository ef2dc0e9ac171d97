import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const SMTP_V1 = {
  name: '',
  host: '',
  port: 587,
  security: 'starttls',
  allowPlaintext: false,
  rejectUnauthorized: true,
  ca: '',
  from: '',
  pool: true,
  maxConnections: 2,
  timeout: 30,
};

/** Each step takes the settings of one version to the next, so flows saved by older releases keep loading. */
const SMTP_MIGRATIONS: readonly Migration[] = [];

/** Host, sender and CA are read without the blanks a paste brings along. */
export function coerceSmtpSetting(key: string, value: unknown): unknown {
  return (key === 'host' || key === 'from' || key === 'ca') && typeof value === 'string' ? value.trim() : value;
}

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const SMTP_HISTORY: NodeHistory = { v1: SMTP_V1, migrations: SMTP_MIGRATIONS };
