import type { Node } from 'node-red';
import { cronSchedule } from '../../core/capture/sampler';
import { formatClock } from '../../core/describe/prompt';
import {
  itemFromEvent,
  itemFromMessage,
  mergeItems,
  renderSummaryPrompt,
  SummaryWindow,
  type PreviousSummary,
  type SummaryItem,
  type TakenWindow,
} from '../../core/describe/summary';
import { isSkipped, type Summary } from '../../core/describe/vision';
import type { SummaryInput } from '../../core/messages';
import { eventJson, type EventJson } from '../../core/store/event-json';
import type { JobHandle } from '../../core/jobs/scheduler';
import type { EventJournal } from '../../core/store/journal';
import { topics } from '../../core/topics';
import { aiServiceFor, notConfiguredOf, type AiService } from '../glimpser-ai/service';
import { showAiReady, showAiSkipped } from '../shared/ai-status';
import type { GlimpserHandles } from '../shared/handles';
import { nodeJobId, schedulerFor } from '../shared/jobs';
import type { NodeBehaviour, NodeContext, Send, Status } from '../shared/node-kit';
import type { AiSummaryConfig } from './schema';

/** The journal event type of summaries (they are stored under the node's "Stored as camera"). */
export const SUMMARY_EVENT_TYPE = 'summary';
/** After a long stop, the first window reaches back at most this far for where the last summary ended. */
const MAX_CATCH_UP_MS = 24 * 3600_000;

/** msg.summary: the stored journal event, or the same fields without id when the node runs outside the runtime. */
export type SummaryEvent = EventJson | (Pick<EventJson, 'camera' | 'type' | 'startTime' | 'startTimeMs' | 'endTime' | 'endTimeMs' | 'data'> & { id: null });

/** What an ai-summary node sends: the message that closed the window (if any) with the brief. */
export type SummaryMessage = SummaryInput & { topic: 'summary'; payload: string; summary: SummaryEvent };

/**
 * The behaviour of an ai-summary node: captions and events in, one brief per window out. A window closes on
 * the schedule or on msg.topic "summarize"; a window that could not be summarised (budget, 429, an error) is
 * kept, so the next summary covers it.
 */
export class AiSummaryController implements NodeBehaviour<SummaryInput> {
  private readonly node: Node;
  private readonly config: AiSummaryConfig;
  private readonly handles: GlimpserHandles;
  private readonly status: Status;
  private readonly ai: AiService;
  private readonly window: SummaryWindow;
  private readonly recent: PreviousSummary[] = [];
  private readonly job: JobHandle | null = null;
  private running = false;
  private closed = false;

  constructor(
    ctx: NodeContext<AiSummaryConfig>,
    private readonly now: () => number = Date.now,
  ) {
    this.node = ctx.node;
    this.config = ctx.config;
    this.handles = ctx.handles;
    this.status = ctx.status;
    this.ai = aiServiceFor(ctx);
    const startedAt = this.now();
    const last = this.previous(1)[0];
    this.window = new SummaryWindow(this.config.maxItems, last && this.config.fromJournal && startedAt - last.end < MAX_CATCH_UP_MS ? last.end : startedAt);
    showAiReady(this.status, this.ai);
    if (this.config.schedule !== '') {
      // A job (kind ai-summary, id ai-summary.<node id>): the API lists its next windows, pauses and runs it.
      this.job = schedulerFor(this.handles).register(
        { id: nodeJobId('ai-summary', this.node.id), kind: 'ai-summary', owner: this.node.id, schedule: cronSchedule(this.config.schedule, this.zone) },
        () => this.onSchedule(ctx.send),
      );
    }
  }

  /**
   * An item is added to the window (nothing goes out); "summarize" closes the window now. A description that was
   * skipped, without an event, carries nothing to summarise and is let go.
   */
  async input(msg: SummaryInput, send: Send): Promise<void> {
    if (msg.topic === 'summarize') {
      const out = await this.summarize(msg);
      if (out) send(out);
      return;
    }
    const item = itemFromMessage(msg, this.now());
    if (!item) {
      if (msg.ai) return;
      throw new Error('ai-summary needs msg.ai (a description from ai-describe), msg.event (a motion, tamper or rule event), or msg.topic "summarize"');
    }
    this.window.add(item);
    this.status.show('idle', 'collecting', { count: this.window.size, since: formatClock(this.window.start, this.zone) });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.job?.unregister();
  }

  /** One run of the window job; its output says what came of the window, a failure is also the run's error. */
  private async onSchedule(send: Send): Promise<string> {
    try {
      const out = await this.summarize({});
      if (!out) return 'no summary: the node status says why';
      if (!this.closed) send(out);
      return `summary of ${out.summary.startTime} to ${out.summary.endTime}`;
    } catch (err) {
      this.status.failed(err as Error);
      this.node.error((err as Error).message);
      throw err;
    }
  }

  /** Closes the window and asks for its summary; null when it was skipped (the status says why). Failures throw. */
  private async summarize(msg: SummaryInput): Promise<SummaryMessage | null> {
    const notConfigured = notConfiguredOf(this.ai);
    if (notConfigured) {
      showAiSkipped(this.status, notConfigured);
      return null;
    }
    if (this.running) {
      this.status.show('skipped', 'busy');
      return null;
    }
    const taken = this.window.take(this.now());
    const items = mergeItems(taken.items, this.journalItems(taken)).slice(-this.config.maxItems);
    if (items.length === 0) {
      this.status.show('skipped', 'nothing', { since: formatClock(taken.start, this.zone) });
      return null;
    }
    const prompt = renderSummaryPrompt({
      start: taken.start,
      end: taken.end,
      items,
      dropped: taken.dropped,
      previous: this.previous(this.config.previous),
      timeZone: this.zone,
      notes: this.config.notes,
    });
    this.running = true;
    this.status.show('connecting', 'summarising', { count: items.length });
    let outcome;
    try {
      outcome = await this.ai.summarize({ prompt });
    } catch (err) {
      this.window.restore(taken);
      throw err;
    } finally {
      this.running = false;
    }
    if (isSkipped(outcome)) {
      if (outcome.skipped !== 'refused') this.window.restore(taken);
      showAiSkipped(this.status, outcome, { zone: this.zone });
      return null;
    }
    const summary = await this.record(taken, items, outcome);
    this.status.show('online', 'summarised', { end: formatClock(taken.end, this.zone), count: items.length, cameras: outcome.sources.length });
    return { ...msg, topic: 'summary', payload: outcome.summary, summary };
  }

  /** Stores the summary as a journal event (so glimpser/events publishes it) and retains it on glimpser/summaries. */
  private async record(taken: TakenWindow, items: SummaryItem[], outcome: Summary): Promise<SummaryEvent> {
    const fields = {
      camera: this.config.source,
      type: SUMMARY_EVENT_TYPE,
      startTime: taken.start,
      endTime: taken.end,
      data: { summary: outcome.summary, sources: outcome.sources, items: items.length, model: outcome.model, tokens: outcome.tokens },
    };
    const journal = this.handles.journal;
    const event: SummaryEvent = journal
      ? eventJson(journal.insert(fields))
      : {
          ...fields,
          id: null,
          startTime: new Date(taken.start).toISOString(),
          startTimeMs: taken.start,
          endTime: new Date(taken.end).toISOString(),
          endTimeMs: taken.end,
        };
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
    return journal
      .query({ camera: this.config.source, type: SUMMARY_EVENT_TYPE, limit: count })
      .events.filter((e) => typeof e.data.summary === 'string')
      .map((e) => ({ start: e.startTime, end: e.endTime ?? e.startTime, summary: e.data.summary as string }));
  }

  private get zone(): string | undefined {
    return this.config.timeZone || undefined;
  }
}
