import type { Severity, SummaryInput } from '../messages/description';
import { formatClock, formatDateTime } from './prompt';

/**
 * Summaries of a time window: what the cameras saw (captions from ai-describe, motion, tamper and rule events)
 * goes in, a short operator brief grouped by camera comes out. The window and the prompt live here; the reply
 * contract is in reply.ts, and the request is VisionProvider.summarize, which shares describe's budget and 429 pause.
 */
export interface SummaryItem {
  /** Items with the same key are one thing seen twice (an event's start and end, or its journal copy). */
  key: string;
  camera: string;
  at: number;
  /** `caption` for a description without an event, else the event type (motion, tamper, rule, …). */
  type: string;
  subtype?: string;
  caption?: string;
  severity?: Severity;
  zones?: string[];
}

export interface PreviousSummary {
  start: number;
  end: number;
  summary: string;
}

export const SUMMARY_SYSTEM_PROMPT = [
  'You write short briefs for the operator of a camera-monitoring system, from what its cameras saw in a time window.',
  'Answer with one JSON object and nothing else, with exactly these keys:',
  '"summary": a few sentences, at most 1500 characters, the most important first;',
  '"sources": one entry per camera with activity, each {"camera": the camera id as given, "brief": one or two sentences, at most 500 characters, "severity": one of "low", "medium", "high", "critical"}.',
  'Report only what the items say. The previous summaries are context: say what continues or changed, do not repeat them.',
].join('\n');

const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** The item a message carries (msg.ai from ai-describe and/or msg.event), or null when it carries neither. */
export function itemFromMessage(msg: SummaryInput, now: number): SummaryItem | null {
  const ai = msg.ai && 'caption' in msg.ai ? msg.ai : null;
  const event = msg.event ?? null;
  if (!ai && !event) return null;
  const eventAi = event?.data?.ai;
  const caption = ai?.caption ?? eventAi?.caption;
  const severity = ai?.severity ?? eventAi?.severity;
  const camera = event?.camera ?? msg.frame?.camera ?? 'unknown';
  if (!event) {
    const at = msg.frame?.timestamp ?? now;
    return { key: `caption:${camera}:${at}`, camera, at, type: 'caption', caption, severity };
  }
  const at =
    [event.startTimeMs, event.startTime].find((t): t is number => typeof t === 'number') ??
    (typeof event.startTime === 'string' ? Date.parse(event.startTime) : now);
  return eventItem({
    camera,
    type: event.type ?? 'event',
    subtype: event.subtype ?? undefined,
    at: Number.isFinite(at) ? at : now,
    zones: event.zones ?? [],
    caption,
    severity,
  });
}

/** The item for a journal event: the same key as the message that carried it, so the two count once. */
export function itemFromEvent(event: {
  camera: string;
  type: string;
  subtype: string | null;
  startTime: number;
  zones: string[];
  data: Record<string, unknown>;
}): SummaryItem {
  const ai = isObject(event.data.ai) ? event.data.ai : null;
  return eventItem({
    camera: event.camera,
    type: event.type,
    subtype: event.subtype ?? undefined,
    at: event.startTime,
    zones: event.zones,
    caption: typeof ai?.caption === 'string' ? ai.caption : undefined,
    severity: ai?.severity as Severity | undefined,
  });
}

function eventItem(fields: Omit<SummaryItem, 'key'>): SummaryItem {
  const { zones, severity, ...rest } = fields;
  return { key: `event:${fields.camera}:${fields.type}:${fields.at}`, ...rest, severity: known(severity), ...(zones && zones.length > 0 ? { zones } : {}) };
}

export interface TakenWindow {
  start: number;
  end: number;
  /** Oldest first. */
  items: SummaryItem[];
  /** Items dropped because the window was full. */
  dropped: number;
}

/**
 * The items of the current window, bounded: beyond `maxItems` the oldest arrival is dropped and counted, so a
 * busy hour cannot grow memory or the prompt without limit. A repeated key updates the item in place.
 */
export class SummaryWindow {
  private items = new Map<string, SummaryItem>();
  private dropped = 0;

  constructor(
    private readonly maxItems: number,
    public start: number,
  ) {
    if (!Number.isInteger(maxItems) || maxItems < 1) throw new Error(`maxItems ${String(maxItems)} is invalid: expected a whole number, at least 1`);
  }

  get size(): number {
    return this.items.size;
  }

  add(item: SummaryItem): void {
    const earlier = this.items.get(item.key);
    // A later phase of the same event (its end, say) often lacks the caption the start carried.
    this.items.set(item.key, earlier ? { ...earlier, ...definedFields(item) } : item);
    this.trim();
  }

  /** Empties the window up to `end`; the next one starts there. */
  take(end: number): TakenWindow {
    const taken = { start: this.start, end, items: [...this.items.values()].sort((a, b) => a.at - b.at), dropped: this.dropped };
    this.items = new Map();
    this.dropped = 0;
    this.start = end;
    return taken;
  }

  /** Puts back a window that could not be summarised, so the next summary covers it; newer items win. */
  restore(taken: TakenWindow): void {
    const merged = new Map<string, SummaryItem>(taken.items.map((item) => [item.key, item]));
    for (const [key, item] of this.items) merged.set(key, merged.has(key) ? { ...merged.get(key)!, ...definedFields(item) } : item);
    this.items = merged;
    this.dropped += taken.dropped;
    this.start = Math.min(this.start, taken.start);
    this.trim();
  }

  private trim(): void {
    for (const key of this.items.keys()) {
      if (this.items.size <= this.maxItems) break;
      this.items.delete(key);
      this.dropped++;
    }
  }
}

/** Adds `extra` (the journal's events) to `items` without counting one thing twice; the result is oldest first. */
export function mergeItems(items: SummaryItem[], extra: SummaryItem[]): SummaryItem[] {
  const merged = new Map<string, SummaryItem>(items.map((item) => [item.key, item]));
  for (const item of extra) merged.set(item.key, merged.has(item.key) ? { ...item, ...definedFields(merged.get(item.key)!) } : item);
  return [...merged.values()].sort((a, b) => a.at - b.at);
}

/** The user prompt: the window, the items grouped by camera with their times in `timeZone`, and the context. */
export function renderSummaryPrompt(input: {
  start: number;
  end: number;
  items: SummaryItem[];
  dropped: number;
  previous: PreviousSummary[];
  timeZone?: string;
  notes?: string;
}): string {
  const zone = input.timeZone || undefined;
  const lines = [`Window: ${formatDateTime(input.start, zone)} to ${formatDateTime(input.end, zone)}.`];
  if (input.notes?.trim()) lines.push(input.notes.trim());
  lines.push(
    `${input.items.length} items${input.dropped > 0 ? ` (${input.dropped} older items were dropped to keep the window bounded)` : ''}, grouped by camera:`,
  );
  const byCamera = new Map<string, SummaryItem[]>();
  for (const item of [...input.items].sort((a, b) => a.at - b.at)) byCamera.set(item.camera, [...(byCamera.get(item.camera) ?? []), item]);
  for (const camera of [...byCamera.keys()].sort()) {
    const items = byCamera.get(camera)!;
    lines.push('', `Camera "${camera}" (${items.length} ${items.length === 1 ? 'item' : 'items'}):`);
    for (const item of items) lines.push(`- ${describeItem(item, zone)}`);
  }
  if (input.previous.length > 0) {
    lines.push('', 'Previous summaries, oldest first:');
    for (const p of [...input.previous].sort((a, b) => a.start - b.start))
      lines.push(`- ${formatDateTime(p.start, zone)} to ${formatClock(p.end, zone)}: ${p.summary}`);
  }
  return lines.join('\n');
}

function describeItem(item: SummaryItem, zone: string | undefined): string {
  const what = item.type === 'caption' ? 'description' : `${item.type}${item.subtype ? ` (${item.subtype})` : ''} event`;
  const zones = item.zones?.length ? ` in ${item.zones.join(', ')}` : '';
  const severity = item.severity ? ` [${item.severity}]` : '';
  return `${formatClock(item.at, zone, true)} ${what}${zones}${severity}${item.caption ? `: ${item.caption}` : ''}`;
}

function known(severity: unknown): Severity | undefined {
  return (SEVERITIES as readonly unknown[]).includes(severity) ? (severity as Severity) : undefined;
}

function definedFields(item: SummaryItem): Partial<SummaryItem> {
  return Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined)) as Partial<SummaryItem>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
