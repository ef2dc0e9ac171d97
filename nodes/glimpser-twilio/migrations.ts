import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const TWILIO_V1 = { name: '', apiBaseUrl: 'https://api.twilio.com', timeout: 15 };

/** Each step takes the settings of one version to the next, so flows saved by older releases keep loading. */
const TWILIO_MIGRATIONS: readonly Migration[] = [];

/** A base URL is read without surrounding blanks or trailing slashes, so `…/` and `…` are one API. */
export function coerceTwilioSetting(key: string, value: unknown): unknown {
  return key === 'apiBaseUrl' && typeof value === 'string' ? value.trim().replace(/\/+$/, '') : value;
}

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const TWILIO_HISTORY: NodeHistory = { v1: TWILIO_V1, migrations: TWILIO_MIGRATIONS };
