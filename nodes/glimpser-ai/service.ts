import type { DescribeOutcome, DescribeRequest, NotConfigured, SummaryOutcome, SummaryRequest } from '../../core/describe/vision';
import type { NodeContext } from '../shared/node-kit';

/**
 * What ai-describe and ai-summary nodes may ask of the glimpser-ai node they picked: the two requests, the model
 * (for their status) and whether it can be asked at all. They share its limits, budget, cache and 429 pause.
 */
export interface AiService {
  readonly model: string;
  /** Nothing wrong, just nothing to use yet (no API key for OpenAI): the reason, else null. */
  readonly notConfigured: string | null;
  describe(request: DescribeRequest): Promise<DescribeOutcome>;
  summarize(request: SummaryRequest): Promise<SummaryOutcome>;
}

/** No glimpser-ai node picked: not an error, the node lets messages pass and says so. */
function notChosen(type: string): AiService {
  const reason = `no glimpser-ai node chosen: pick one in the ${type} node`;
  const refuse = (): Promise<never> => Promise.reject(new Error(reason));
  return { model: '', notConfigured: reason, describe: refuse, summarize: refuse };
}

/**
 * The glimpser-ai node the `ai` setting points at. One that is not deployed or whose settings are wrong throws
 * ("ai: …"), which the kit reports as this node's config error.
 */
export function aiServiceFor(ctx: NodeContext<{ ai: string }>): AiService {
  const type = ctx.node.type;
  return ctx.config.ai ? ctx.configNode<AiService>(ctx.config.ai, 'glimpser-ai', 'ai') : notChosen(type);
}

/** The `not_configured` outcome (what ai-describe puts on msg.ai) when the service cannot be asked, else null. */
export function notConfiguredOf(ai: AiService): NotConfigured | null {
  return ai.notConfigured === null ? null : { skipped: 'not_configured', reason: ai.notConfigured };
}
