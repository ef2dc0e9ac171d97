import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const NOTIFY_SMS_V1 = {
  name: '',
  twilio: '',
  to: [],
  from: '',
  messagingServiceSid: '',
  template: '{{severity}} on {{camera}}: {{headline}} ({{time}})',
  maxLength: 160,
  includeMedia: false,
  publicUrl: '',
};

/** Each step takes the settings of one version to the next, so flows saved by older releases keep loading. */
const NOTIFY_SMS_MIGRATIONS: readonly Migration[] = [];

/**
 * The editor stores the numbers as typed ("+4420…, +1415…"): they are read as a list. Numbers are kept without the
 * blanks, dots, dashes and brackets people write them with; addresses without surrounding blanks.
 */
export function coerceNotifySmsSetting(key: string, value: unknown): unknown {
  if (key === 'to' && typeof value === 'string') {
    return value
      .split(/[,;\n]+/)
      .map((number) => number.replace(/[\s().-]/g, ''))
      .filter(Boolean);
  }
  if (key === 'to' && Array.isArray(value)) return value.map((number) => (typeof number === 'string' ? number.replace(/[\s().-]/g, '') : number));
  if (key === 'from') return typeof value === 'string' ? value.replace(/[\s().-]/g, '') : value;
  if (key === 'messagingServiceSid' || key === 'twilio') return typeof value === 'string' ? value.trim() : value;
  if (key === 'publicUrl') return typeof value === 'string' ? value.trim().replace(/\/+$/, '') : value;
  return value;
}

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const NOTIFY_SMS_HISTORY: NodeHistory = { v1: NOTIFY_SMS_V1, migrations: NOTIFY_SMS_MIGRATIONS };
