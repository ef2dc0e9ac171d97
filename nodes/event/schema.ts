import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPE_PATTERN } from '../../core/store/event-schema';
import { readNodeConfig, type NodeConfigSpec } from '../shared/config';
import { EVENT_MIGRATIONS, EVENT_V1 } from './migrations';

/** event node configuration, version 1. */
export const EventNodeConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    eventType: Type.String({ pattern: EVENT_TYPE_PATTERN.source }),
    snapshot: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type EventNodeConfig = Static<typeof EventNodeConfigSchema>;

export const eventConfig: NodeConfigSpec<typeof EventNodeConfigSchema> = {
  type: 'event',
  schema: EventNodeConfigSchema,
  v1: EVENT_V1,
  migrations: EVENT_MIGRATIONS,
  defaults: { ...EVENT_V1, version: 1 },
  hints: { eventType: ' (1-32 characters of a-z or "_", e.g. motion)' },
};

/** Migrates a stored event node definition to the current version and validates it; the error names the setting. */
export function eventNodeConfigFrom(def: Record<string, unknown>): EventNodeConfig {
  return readNodeConfig(eventConfig, def);
}
