import type { Node } from 'node-red';
import { formatClock } from '../../core/describe/prompt';
import { isSkipped, type Description, type Skipped } from '../../core/describe/vision';
import type { AiConfigNode } from '../glimpser-ai/controller';
import type { GlimpserHandles } from '../shared/handles';
import { statusOf } from '../shared/node-kit';
import type { AiDescribeConfig } from './schema';

/** What msg.ai carries when no description was made. */
export type AiSkipped = Skipped | { skipped: 'not_configured'; reason: string };

interface EventFields {
  id?: unknown;
  camera?: unknown;
  startTime?: unknown;
  startTimeMs?: unknown;
  data?: unknown;
}

/**
 * The behaviour of an ai-describe node: a frame (or an event with its JPEG) in, the same message out with
 * msg.ai. Nothing is ever dropped for want of a description: skipped frames pass through with the reason.
 */
export class AiDescribeController {
  described = 0;

  constructor(private readonly node: Node, private readonly config: AiDescribeConfig, private readonly ai: AiConfigNode | null, private readonly handles: GlimpserHandles) {}

  /** The status a node shows before its first frame. */
  initialStatus(): void {
    const notConfigured = this.notConfigured();
    if (this.ai?.controller.configError) this.node.status(statusOf('error', `AI settings: ${this.ai.controller.configError}`));
    else if (notConfigured) this.node.status(statusOf('idle', 'not configured — frames pass through'));
    else this.node.status(statusOf('idle', `ready (${this.ai!.controller.provider!.model})`));
  }

  async onMessage(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const jpeg = msg.payload;
    if (!Buffer.isBuffer(jpeg)) throw new Error('msg.payload must be a JPEG Buffer (a frame from a capture node, or an event from a motion node)');
    const frame = msg.frame as { camera?: unknown; timestamp?: unknown } | undefined;
    const event = isObject(msg.event) ? (msg.event as EventFields) : undefined;
    const camera = String(frame?.camera ?? event?.camera ?? 'unknown');
    const takenAt = [frame?.timestamp, event?.startTimeMs, event?.startTime].find((t): t is number => typeof t === 'number') ?? Date.now();
    if (this.ai?.controller.configError) throw new Error(`the glimpser-ai node's settings are wrong: ${this.ai.controller.configError}`);
    const notConfigured = this.notConfigured();
    if (notConfigured) {
      this.node.status(statusOf('idle', 'not configured — frames pass through'));
      return { ...msg, ai: { skipped: 'not_configured', reason: notConfigured } satisfies AiSkipped };
    }
    const provider = this.ai!.controller.provider!;
    let outcome;
    try {
      outcome = await provider.describe({ jpeg, camera, template: this.config.prompt, notes: this.config.notes, timeZone: this.config.timeZone || undefined, takenAt, maxSide: this.config.maxSide, maxBytes: this.config.maxKB * 1024 });
    } catch (err) {
      this.node.status(statusOf('error', `${camera}: ${(err as Error).message}`));
      throw err;
    }
    if (isSkipped(outcome)) {
      this.showSkipped(camera, outcome);
      return { ...msg, ai: outcome };
    }
    this.described++;
    const out: Record<string, unknown> = { ...msg, ai: outcome };
    if (event) out.event = this.recordOnEvent(event, outcome);
    this.node.status(statusOf('online', `${camera}: ${outcome.cached ? '(cached) ' : ''}${outcome.caption}`));
    return out;
  }

  /**
   * A journal event (it has an id) is updated now, so glimpser/events publishes the description as soon as it
   * exists; an event not yet stored (a motion node's, with a key) carries it in data.ai for the event node.
   */
  private recordOnEvent(event: EventFields, ai: Description): EventFields {
    const data = isObject(event.data) ? event.data : {};
    if (typeof event.id === 'string' && this.handles.journal) {
      const changed = this.handles.journal.update(event.id, { data: { ai } });
      if (!changed) this.node.warn(`event ${event.id} is not in the journal (deleted by retention?): its description is on msg.ai only`);
    }
    return { ...event, data: { ...data, ai } };
  }

  private showSkipped(camera: string, skipped: Skipped): void {
    const zone = this.config.timeZone || undefined;
    if (skipped.skipped === 'budget') this.node.status(statusOf('skipped', `skipped: budget spent until ${formatClock(skipped.resetsAt, zone)}`));
    else if (skipped.skipped === 'rate_limited') this.node.status(statusOf('connecting', `rate limited until ${formatClock(skipped.until, zone, true)}`));
    else this.node.status(statusOf('skipped', `${camera}: skipped, the model refused`));
  }

  private notConfigured(): string | null {
    if (!this.ai) return 'no glimpser-ai node chosen: pick one in the ai-describe node';
    return this.ai.controller.notConfigured;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
