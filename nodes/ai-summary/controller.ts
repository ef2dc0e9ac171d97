import type { Node, NodeMessage } from 'node-red';
import cron, { type ScheduledTask } from 'node-cron';
import { formatClock } from '../../core/describe/prompt';
import { itemFromEvent, itemFromMessage, mergeItems, renderSummaryPrompt, SummaryWindow, type PreviousSummary, type Summary, type SummaryItem, type TakenWindow } from '../../core/describe/summary';
import type { Skipped } from '../../core/describe/vision';
import { eventJson, type EventJson } from '../../core/store/event-json';
import type { EventJournal } from '../../core/store/journal';
import { topics } from '../../core/topics';
import type { AiConfigNode } from '../glimpser-ai/controller';
import type { GlimpserHandles } from '../shared/handles';
import { statusOf } from '../shared/node-kit';
import type { AiSummaryConfig } from './schema';

/** Retained latest summary; becomes topics.summaries once core/topics.ts has it. */
export const SUMMARY_EVENT_TYPE = 'summary';
/** After a long stop, the first window reaches back at most this far for where the last summary ended. */
const MAX_CATCH_UP_MS = 24 * 3600_000;

/** msg.summary: the stored journal event, or the same fields without id when the node runs outside the runtime. */
export type SummaryEvent = EventJson | (Pick<EventJson, 'camera' | 'type' | 'startTime' | 'startTimeMs' | 'endTime' | 'endTimeMs' | 'data'> & { id: null });

/**
 * The behaviour of an ai-summary node: captions and events in, one brief per window out. A window closes on
 * the schedule or on msg.topic "summarize"; a window that could not be summarised (budget, 429, an error) is
 * kept, so the next summary covers it.
 */
export class AiSummaryController {
  private readonly window: SummaryWindow;
  private readonly recent: PreviousSummary[] = [];
  private task: ScheduledTask | null = null;
  private running = false;
  private closed = false;

  constructor(private readonly node: Node, private readonly config: AiSummaryConfig, private readonly ai: AiConfigNode | null, private readonly handles: GlimpserHandles, private readonly now: () => number = Date.now) {
    const startedAt = this.now();
    const last = this.previous(1)[0];
    this.window = new SummaryWindow(config.maxItems, last && config.fromJournal && startedAt - last.end < MAX_CATCH_UP_MS ? last.end : startedAt);
  }

  start(): void {
    const notConfigured = this.notConfigured();
    if (this.ai?.controller.configError) this.node.status(statusOf('error', `AI settings: ${this.ai.controller.configError}`));
    else if (notConfigured) this.node.status(statusOf('idle', 'not configured — nothing is sent'));
    else this.node.status(statusOf('idle', `ready (${this.ai!.controller.provider!.model})`));
    if (this.config.schedule === '') return;
    this.task = cron.schedule(this.config.schedule, () => this.onSchedule(), { timezone: this.config.timeZone || undefined, noOverlap: true });
  }

  /** An item is added to the window (nothing goes out); "summarize" closes the window now. */
  async onMessage(msg: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    if (msg.topic === 'summarize') return this.summarize(msg);
    const item = itemFromMessage(msg, this.now());
    if (!item) throw new Error('ai-summary needs msg.ai (a description from ai-describe), msg.event (a motion, tamper or rule event), or msg.topic "summarize"');
    this.window.add(item);
    this.node.status(statusOf('idle', `${this.window.size} items since ${formatClock(this.window.start, this.zone)}`));
    return null;
  }

  close(): void {
    this.closed = true;
    void this.task?.destroy();
  }

  private async onSchedule(): Promise<void> {
    try {
      const out = await this.summarize({});
      if (out && !this.closed) this.node.send(out as NodeMessage);
    } catch (err) {
      this.node.error((err as Error).message);
    }
  }

  /** Closes the window and asks for its summary; null when it was skipped (the status says why). */
  private async summarize(msg: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    if (this.ai?.controller.configError) return this.fail(new Error(`the glimpser-ai node's settings are wrong: ${this.ai.controller.configError}`));
    const notConfigured = this.notConfigured();
    if (notConfigured) {
      this.node.status(statusOf('idle', 'not configured — nothing is sent'));
      return null;
    }
    if (this.running) {
      this.node.status(statusOf('skipped', 'skipped: a summary is already being written'));
      return null;
    }
    const taken = this.window.take(this.now());
    const items = mergeItems(taken.items, this.journalItems(taken)).slice(-this.config.maxItems);
    if (items.length === 0) {
      this.node.status(statusOf('skipped', `skipped: nothing since ${formatClock(taken.start, this.zone)}`));
      return null;
    }
    const provider = this.ai!.controller.provider!;
    const prompt = renderSummaryPrompt({ start: taken.start, end: taken.end, items, dropped: taken.dropped, previous: this.previous(this.config.previous), timeZone: this.zone, notes: this.config.notes });
    this.running = true;
    this.node.status(statusOf('connecting', `summarising ${items.length} items…`));
    let outcome;
    try {
      outcome = await provider.summarize({ prompt });
    } catch (err) {
      this.window.restore(taken);
      return this.fail(err as Error);
    } finally {
      this.running = false;
    }
    if ('skipped' in outcome) {
      if (outcome.skipped !== 'refused') this.window.restore(taken);
      this.showSkipped(outcome);
      return null;
    }
    const summary = await this.record(taken, items, outcome);
    this.node.status(statusOf('online', `${formatClock(taken.end, this.zone)}: ${items.length} items, ${outcome.sources.length} cameras`));
    return { ...msg, topic: 'summary', payload: outcome.summary, summary };
  }

  /** Stores the summary as a journal event (so glimpser/events publishes it) and retains it on glimpser/summaries. */
  private async record(taken: TakenWindow, items: SummaryItem[], outcome: Summary): Promise<SummaryEvent> {
    const fields = { camera: this.config.source, type: SUMMARY_EVENT_TYPE, startTime: taken.start, endTime: taken.end, data: { summary: outcome.summary, sources: outcome.sources, items: items.length, model: outcome.model, tokens: outcome.tokens } };
    const journal = this.handles.journal;
    const event: SummaryEvent = journal
      ? eventJson(journal.insert(fields))
      : { ...fields, id: null, startTime: new Date(taken.start).toISOString(), startTimeMs: taken.start, endTime: new Date(taken.end).toISOString(), endTimeMs: taken.end };
    this.recent.push({ start: taken.start, end: taken.end, summary: outcome.summary });
    if (this.recent.length > 10) this.recent.shift();
    try {
      await this.handles.bus?.publish(topics.summaries, JSON.stringify(event), { qos: 1, retain: true });
    } catch (err) {
      this.node.warn(`summary not published on ${topics.summaries}: ${(err as Error).message} (it is in the journal)`);
    }
    return event;
  }

  /**
   * The window's events from the journal, so events that never passed through this node are summarised too;
   * the newest `maxItems`, without this node's own summaries.
   */
  private journalItems(taken: TakenWindow): SummaryItem[] {
    const journal = this.handles.journal;
    if (!journal || !this.config.fromJournal || taken.end <= taken.start) return [];
    const items: SummaryItem[] = [];
    let cursor: string | undefined;
    do {
      const page = journal.query({ from: taken.start, to: taken.end, limit: Math.min(500, this.config.maxItems), ...(cursor ? { cursor } : {}) });
      for (const event of page.events) if (event.type !== SUMMARY_EVENT_TYPE) items.push(itemFromEvent(event));
      cursor = page.next ?? undefined;
    } while (cursor && items.length < this.config.maxItems);
    return items;
  }

  /** The last `count` summaries, newest first: from the journal (they survive restarts), else this node's own. */
  private previous(count: number): PreviousSummary[] {
    if (count === 0) return [];
    const journal: EventJournal | undefined = this.handles.journal;
    if (!journal) return this.recent.slice(-count).reverse();
    return journal.query({ camera: this.config.source, type: SUMMARY_EVENT_TYPE, limit: count }).events
      .filter((e) => typeof e.data.summary === 'string')
      .map((e) => ({ start: e.startTime, end: e.endTime ?? e.startTime, summary: e.data.summary as string }));
  }

  private showSkipped(skipped: Skipped): void {
    if (skipped.skipped === 'budget') this.node.status(statusOf('skipped', `skipped: budget spent until ${formatClock(skipped.resetsAt, this.zone)}`));
    else if (skipped.skipped === 'rate_limited') this.node.status(statusOf('connecting', `rate limited until ${formatClock(skipped.until, this.zone, true)}`));
    else this.node.status(statusOf('skipped', 'skipped, the model refused'));
  }

  private fail(err: Error): never {
    this.node.status(statusOf('error', err.message));
    throw err;
  }

  private notConfigured(): string | null {
    if (!this.ai) return 'no glimpser-ai node chosen: pick one in the ai-summary node';
    return this.ai.controller.notConfigured;
  }

  private get zone(): string | undefined {
    return this.config.timeZone || undefined;
  }
}
