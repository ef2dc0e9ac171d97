import { DEFAULT_EMAIL_TEMPLATES } from '../../core/alerts/channels/email';
import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const NOTIFY_EMAIL_V1 = {
  name: '',
  smtp: '',
  to: [],
  subject: DEFAULT_EMAIL_TEMPLATES.subject,
  text: DEFAULT_EMAIL_TEMPLATES.text,
  html: DEFAULT_EMAIL_TEMPLATES.html,
  snapshot: 'attach',
  attachCap: false,
  timeZone: '',
};

/** Each step takes the settings of one version to the next, so flows saved by older releases keep loading. */
const NOTIFY_EMAIL_MIGRATIONS: readonly Migration[] = [];

/** The editor stores the recipients as typed ("a@example.com, Ops <ops@example.com>"): they are read as a list. */
export function coerceNotifyEmailSetting(key: string, value: unknown): unknown {
  if (key === 'to' && typeof value === 'string') {
    return value
      .split(/[,;\n]+/)
      .map((address) => address.trim())
      .filter(Boolean);
  }
  if (key === 'to' && Array.isArray(value)) return value.map((address) => (typeof address === 'string' ? address.trim() : address));
  if (key === 'smtp' || key === 'timeZone') return typeof value === 'string' ? value.trim() : value;
  return value;
}

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const NOTIFY_EMAIL_HISTORY: NodeHistory = { v1: NOTIFY_EMAIL_V1, migrations: NOTIFY_EMAIL_MIGRATIONS };
