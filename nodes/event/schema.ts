import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPE_PATTERN } from '../../core/store/event-schema';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { EVENT_HISTORY } from './migrations';

/** event node configuration, version 1. */
export const EventNodeConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
    eventType: Type.String({ pattern: EVENT_TYPE_PATTERN.source }),
    snapshot: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type EventNodeConfig = Static<typeof EventNodeConfigSchema>;

export const eventConfig = nodeConfig('event', EventNodeConfigSchema, EVENT_HISTORY, {
  hints: { eventType: ' (1-32 characters of a-z or "_", e.g. motion)' },
});

/** Migrates a stored event node definition to the current version and validates it; the error names the setting. */
export function eventNodeConfigFrom(def: Record<string, unknown>): EventNodeConfig {
  return readNodeConfig(eventConfig, def);
}
