import type { Node } from 'node-red';
import { isSkipped } from '../../core/describe/vision';
import type { DescribedEvent, DescribedMessage, DescribeInput, Description } from '../../core/messages';
import { aiServiceFor, notConfiguredOf, type AiService } from '../glimpser-ai/service';
import { showAiReady, showAiSkipped } from '../shared/ai-status';
import type { GlimpserHandles } from '../shared/handles';
import type { NodeBehaviour, NodeContext, Send, Status } from '../shared/node-kit';
import type { AiDescribeConfig } from './schema';

/**
 * The behaviour of an ai-describe node: a frame (or an event with its JPEG) in, the same message out with
 * msg.ai. Nothing is ever dropped for want of a description: skipped frames pass through with the reason.
 */
export class AiDescribeController implements NodeBehaviour<DescribeInput> {
  private readonly node: Node;
  private readonly config: AiDescribeConfig;
  private readonly handles: GlimpserHandles;
  private readonly status: Status;
  private readonly ai: AiService;

  constructor(ctx: NodeContext<AiDescribeConfig>) {
    this.node = ctx.node;
    this.config = ctx.config;
    this.handles = ctx.handles;
    this.status = ctx.status;
    this.ai = aiServiceFor(ctx);
    showAiReady(this.status, this.ai);
  }

  async input(msg: DescribeInput, send: Send): Promise<void> {
    send(await this.describe(msg));
  }

  /** A failed request throws (the kit shows it and Catch nodes get it); every other outcome sends the message on. */
  async describe(msg: DescribeInput): Promise<DescribedMessage> {
    const { frame, event } = msg;
    const camera = frame?.camera ?? event?.camera ?? 'unknown';
    const takenAt = [frame?.timestamp, event?.startTimeMs, event?.startTime].find((t): t is number => typeof t === 'number') ?? Date.now();
    const zone = this.config.timeZone || undefined;
    const notConfigured = notConfiguredOf(this.ai);
    if (notConfigured) {
      showAiSkipped(this.status, notConfigured);
      return { ...msg, ai: notConfigured };
    }
    const outcome = await this.ai.describe({
      jpeg: msg.payload,
      camera,
      template: this.config.prompt,
      notes: this.config.notes,
      timeZone: zone,
      takenAt,
      maxSide: this.config.maxSide,
      maxBytes: this.config.maxKB * 1024,
    });
    if (isSkipped(outcome)) {
      showAiSkipped(this.status, outcome, { zone, camera });
      return { ...msg, ai: outcome };
    }
    if (outcome.cached) this.status.show('online', 'describedCached', { camera, caption: outcome.caption });
    else this.status.show('online', 'described', { camera, caption: outcome.caption });
    return event ? { ...msg, ai: outcome, event: this.recordOnEvent(event, outcome) } : { ...msg, ai: outcome };
  }

  /**
   * A journal event (it has an id) is updated now, so glimpser/events publishes the description as soon as it
   * exists; an event not yet stored (a motion node's, with a key) carries it in data.ai for the event node.
   */
  private recordOnEvent(event: DescribedEvent, ai: Description): DescribedEvent {
    if (event.id !== undefined && this.handles.journal) {
      const changed = this.handles.journal.update(event.id, { data: { ai } });
      if (!changed) this.node.warn(`event ${event.id} is not in the journal (deleted by retention?): its description is on msg.ai only`);
    }
    return { ...event, data: { ...event.data, ai } };
  }
}
