import { OPENAI_BASE_URL, OpenAIVisionProvider } from '../../core/describe/openai-provider';
import type { DescribeOutcome, DescribeRequest, SummaryOutcome, SummaryRequest, VisionProvider } from '../../core/describe/vision';
import type { NodeBehaviour } from '../shared/node-kit';
import type { AiConfig } from './schema';
import type { AiService } from './service';

export type { AiService } from './service';

export interface AiCredentials {
  apiKey?: string;
}

/**
 * The behaviour of a glimpser-ai config node: one provider shared by every ai-describe and ai-summary node that
 * picks it (so they share its concurrency limit, budget, cache and 429 pause), or the reason there is none yet.
 * Settings that are wrong never get here: the kit reports them as this node's config error.
 */
export class AiController implements AiService, NodeBehaviour {
  readonly model: string;
  readonly notConfigured: string | null = null;
  private readonly provider: VisionProvider | null = null;
  private readonly closing: Array<() => void> = [];

  constructor(config: AiConfig, credentials: AiCredentials) {
    this.model = config.model;
    const apiKey = credentials.apiKey?.trim() || undefined;
    // Local servers (Ollama, llama.cpp, vLLM) need no key; OpenAI itself always does.
    if (!apiKey && config.baseUrl === OPENAI_BASE_URL) {
      this.notConfigured = 'no API key for OpenAI: add one in the glimpser-ai node, or point it at a local server';
      return;
    }
    this.provider = new OpenAIVisionProvider({
      baseURL: config.baseUrl,
      apiKey,
      model: config.model,
      timeoutMs: Math.round(config.timeout * 1000),
      maxConcurrent: config.maxConcurrent,
      budget: {
        requestsPerHour: config.requestsPerHour,
        requestsPerDay: config.requestsPerDay,
        tokensPerHour: config.tokensPerHour,
        tokensPerDay: config.tokensPerDay,
      },
      prices: { inputPerMillion: config.inputPrice, outputPerMillion: config.outputPrice },
      label: config.name || config.model,
    });
  }

  describe(request: DescribeRequest): Promise<DescribeOutcome> {
    return this.ready().describe(request);
  }

  summarize(request: SummaryRequest): Promise<SummaryOutcome> {
    return this.ready().summarize(request);
  }

  /** Runs `action` when the node closes (before the provider). */
  onClose(action: () => void): void {
    this.closing.push(action);
  }

  close(): void {
    for (const action of this.closing) action();
    this.provider?.close();
  }

  /** Users check notConfigured first; asking anyway fails with the reason rather than sending nothing silently. */
  private ready(): VisionProvider {
    if (this.provider) return this.provider;
    throw new Error(this.notConfigured ?? 'the AI provider is not configured');
  }
}
