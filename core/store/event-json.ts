import type { EventBox, StoredEvent } from './event';
import { isoTime } from './iso-time';

/**
 * An event as the HTTP API and the bus show it: every time twice, as an ISO 8601 string for people and as
 * milliseconds for programs. The snapshot's file name stays private; `hasSnapshot` says whether one exists.
 */
export interface EventJson {
  id: string;
  camera: string;
  type: string;
  subtype: string | null;
  startTime: string;
  startTimeMs: number;
  endTime: string | null;
  endTimeMs: number | null;
  score: number;
  boxes: EventBox[];
  zones: string[];
  hasSnapshot: boolean;
  kept: boolean;
  data: Record<string, unknown>;
  createdAt: string;
  createdAtMs: number;
  updatedAt: string;
  updatedAtMs: number;
}

export function eventJson(event: StoredEvent): EventJson {
  return {
    id: event.id,
    camera: event.camera,
    type: event.type,
    subtype: event.subtype,
    startTime: iso(event.startTime),
    startTimeMs: event.startTime,
    endTime: event.endTime === null ? null : iso(event.endTime),
    endTimeMs: event.endTime,
    score: event.score,
    boxes: event.boxes,
    zones: event.zones,
    hasSnapshot: event.snapshot !== null,
    kept: event.kept,
    data: event.data,
    createdAt: iso(event.createdAt),
    createdAtMs: event.createdAt,
    updatedAt: iso(event.updatedAt),
    updatedAtMs: event.updatedAt,
  };
}

const iso = isoTime;
