import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { formatClock, formatDateTime } from './prompt';
import type { Severity, Skipped, TokenUsage } from './vision';

/**
 * Summaries of a time window: what the cameras saw (captions from ai-describe, motion, tamper and rule events)
 * goes in, a short operator brief grouped by camera comes out. The window, the prompt and the reply contract
 * live here; the request itself is OpenAIVisionProvider.summarize, which shares describe's budget and 429 pause.
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

export interface SourceBrief {
  camera: string;
  brief: string;
  severity: Severity;
}

export interface SummaryRequest {
  /** The user prompt, from renderSummaryPrompt. */
  prompt: string;
}

export interface Summary {
  summary: string;
  sources: SourceBrief[];
  model: string;
  tokens: TokenUsage;
  latencyMs: number;
}

export type SummaryOutcome = Summary | Skipped;

export const SUMMARY_SYSTEM_PROMPT = [
  'You write short briefs for the operator of a camera-monitoring system, from what its cameras saw in a time window.',
  'Answer with one JSON object and nothing else, with exactly these keys:',
  '"summary": a few sentences, at most 1500 characters, the most important first;',
  '"sources": one entry per camera with activity, each {"camera": the camera id as given, "brief": one or two sentences, at most 500 characters, "severity": one of "low", "medium", "high", "critical"}.',
  'Report only what the items say. The previous summaries are context: say what continues or changed, do not repeat them.',
].join('\n');

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
const SeveritySchema = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));

export const SummaryReplySchema = Type.Object(
  {
    summary: Type.String({ minLength: 1, maxLength: 1500 }),
    sources: Type.Array(Type.Object({ camera: Type.String({ minLength: 1, maxLength: 64 }), brief: Type.String({ maxLength: 500 }), severity: SeveritySchema }), { maxItems: 100 }),
  },
  // As with descriptions, extra keys a model adds are dropped rather than failing a good reply.
  { additionalProperties: true },
);

export type SummaryReply = Static<typeof SummaryReplySchema>;

const check = new Ajv({ strict: false }).compile<SummaryReply>(SummaryReplySchema);

export type ParsedSummaryReply = { ok: true; reply: SummaryReply } | { ok: false; problem: string };

/** Parses a model's message content; the problem names the field that was wrong and what was expected. */
export function parseSummaryReply(content: string): ParsedSummaryReply {
  const text = content.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/i, '$1');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `reply is not JSON (${(err as Error).message}); it began ${JSON.stringify(text.slice(0, 60))}` };
  }
  if (!isObject(value)) return { ok: false, problem: 'reply is JSON but not an object with summary and sources' };
  if (!check(value)) {
    const error = check.errors?.[0];
    const field = error?.instancePath.replace(/^\//, '').replace(/\//g, '.') || String(error?.params.missingProperty ?? 'reply');
    const allowed = error?.keyword === 'anyOf' || error?.keyword === 'const' ? ' (expected "low", "medium", "high" or "critical")' : '';
    return { ok: false, problem: `reply field "${field}" ${error?.message ?? 'is invalid'}${allowed}` };
  }
  return { ok: true, reply: { summary: value.summary.trim(), sources: value.sources.map(({ camera, brief, severity }) => ({ camera, brief: brief.trim(), severity })) } };
}

/** The item a message carries (msg.ai from ai-describe and/or msg.event), or null when it carries neither. */
export function itemFromMessage(msg: Record<string, unknown>, now: number): SummaryItem | null {
  const ai = isObject(msg.ai) && typeof msg.ai.caption === 'string' ? msg.ai : null;
  const event = isObject(msg.event) ? msg.event : null;
  const frame = isObject(msg.frame) ? msg.frame : null;
  if (!ai && !event) return null;
  const eventAi = event && isObject(event.data) && isObject(event.data.ai) ? event.data.ai : null;
  const caption = (ai?.caption ?? eventAi?.caption) as string | undefined;
  const severity = (ai?.severity ?? eventAi?.severity) as Severity | undefined;
  const camera = String(event?.camera ?? frame?.camera ?? 'unknown');
  if (!event) {
    const at = typeof frame?.timestamp === 'number' ? frame.timestamp : now;
    return { key: `caption:${camera}:${at}`, camera, at, type: 'caption', caption, severity: known(severity) };
  }
  const at = [event.startTimeMs, event.startTime].find((t): t is number => typeof t === 'number') ?? (typeof event.startTime === 'string' ? Date.parse(event.startTime) : now);
  const zones = Array.isArray(event.zones) ? event.zones.filter((z): z is string => typeof z === 'string') : [];
  return eventItem({ camera, type: typeof event.type === 'string' ? event.type : 'event', subtype: typeof event.subtype === 'string' ? event.subtype : undefined, at: Number.isFinite(at) ? at : now, zones, caption, severity });
}

/** The item for a journal event: the same key as the message that carried it, so the two count once. */
export function itemFromEvent(event: { camera: string; type: string; subtype: string | null; startTime: number; zones: string[]; data: Record<string, unknown> }): SummaryItem {
  const ai = isObject(event.data.ai) ? event.data.ai : null;
  return eventItem({ camera: event.camera, type: event.type, subtype: event.subtype ?? undefined, at: event.startTime, zones: event.zones, caption: typeof ai?.caption === 'string' ? ai.caption : undefined, severity: ai?.severity as Severity | undefined });
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

  constructor(private readonly maxItems: number, public start: number) {
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
export function renderSummaryPrompt(input: { start: number; end: number; items: SummaryItem[]; dropped: number; previous: PreviousSummary[]; timeZone?: string; notes?: string }): string {
  const zone = input.timeZone || undefined;
  const lines = [`Window: ${formatDateTime(input.start, zone)} to ${formatDateTime(input.end, zone)}.`];
  if (input.notes?.trim()) lines.push(input.notes.trim());
  lines.push(`${input.items.length} items${input.dropped > 0 ? ` (${input.dropped} older items were dropped to keep the window bounded)` : ''}, grouped by camera:`);
  const byCamera = new Map<string, SummaryItem[]>();
  for (const item of [...input.items].sort((a, b) => a.at - b.at)) byCamera.set(item.camera, [...(byCamera.get(item.camera) ?? []), item]);
  for (const camera of [...byCamera.keys()].sort()) {
    const items = byCamera.get(camera)!;
    lines.push('', `Camera "${camera}" (${items.length} ${items.length === 1 ? 'item' : 'items'}):`);
    for (const item of items) lines.push(`- ${describeItem(item, zone)}`);
  }
  if (input.previous.length > 0) {
    lines.push('', 'Previous summaries, oldest first:');
    for (const p of [...input.previous].sort((a, b) => a.start - b.start)) lines.push(`- ${formatDateTime(p.start, zone)} to ${formatClock(p.end, zone)}: ${p.summary}`);
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
