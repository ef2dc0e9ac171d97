import type { AlertEventFields, Severity } from '../messages';
import type { EventPhase } from './build-lifecycle';
import type { AlertDescription, AlertEvent } from './build';

/**
 * Reads what cap-alert needs from an event message, whichever node sent it: the event node's journal event (id,
 * ISO and millisecond times, no phase: an end time means it ended) or a motion node's lifecycle event (key, phase).
 */

function timeOf(ms: number | undefined, value: number | string | null | undefined): number | null {
  if (ms !== undefined) return ms;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

/** The event as cap-alert reads it; an event without any start time started when the message arrived. */
export function alertEventOf(fields: AlertEventFields, now: number): AlertEvent {
  const endTime = fields.endTimeMs !== undefined ? fields.endTimeMs : timeOf(undefined, fields.endTime);
  const startTime = timeOf(fields.startTimeMs, fields.startTime) ?? now;
  return {
    id: fields.id ?? null,
    ref: fields.id ?? fields.key ?? `${fields.camera}.${startTime}`,
    camera: fields.camera,
    type: fields.type ?? 'event',
    zones: fields.zones ?? [],
    startTime,
    endTime,
    score: fields.score ?? null,
  };
}

/** A lifecycle event says its phase; a journal event has ended when it has an end time. */
export function phaseOf(fields: AlertEventFields, event: AlertEvent): EventPhase {
  if (fields.phase) return fields.phase;
  return event.endTime === null ? 'update' : 'end';
}

const SEVERITIES: readonly string[] = ['low', 'medium', 'high', 'critical'];

function descriptionFrom(value: unknown): AlertDescription | null {
  if (typeof value !== 'object' || value === null) return null;
  const { caption, description, severity } = value as Record<string, unknown>;
  if (typeof caption !== 'string') return null;
  return {
    caption,
    description: typeof description === 'string' ? description : '',
    severity: typeof severity === 'string' && SEVERITIES.includes(severity) ? (severity as Severity) : null,
  };
}

/** ai-describe's description on msg.ai, else the one it stored in the event's data; null when there is none. */
export function alertDescriptionOf(ai: unknown, fields: AlertEventFields): AlertDescription | null {
  return descriptionFrom(ai) ?? descriptionFrom(fields.data?.ai);
}
