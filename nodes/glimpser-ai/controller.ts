import type { Node } from 'node-red';
import { OPENAI_BASE_URL, OpenAIVisionProvider } from '../../core/describe/openai-provider';
import { aiConfigFrom } from './schema';

export interface AiCredentials {
  apiKey?: string;
}

/** What an ai-describe node finds on its glimpser-ai config node. */
export type AiConfigNode = Node<AiCredentials> & { controller: AiController };

/**
 * The behaviour of a glimpser-ai config node: one provider shared by every ai-describe node that picks it (so
 * they share its concurrency limit, budget, cache and 429 pause), or the reason there is none.
 */
export class AiController {
  readonly provider: OpenAIVisionProvider | null = null;
  /** Settings that are wrong: ai-describe nodes fail with this message. */
  readonly configError: string | null = null;
  /** Nothing wrong, just nothing to use yet: ai-describe nodes let frames pass through. */
  readonly notConfigured: string | null = null;

  constructor(def: Record<string, unknown>, credentials: AiCredentials) {
    try {
      const config = aiConfigFrom(def);
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
        budget: { requestsPerHour: config.requestsPerHour, requestsPerDay: config.requestsPerDay, tokensPerHour: config.tokensPerHour, tokensPerDay: config.tokensPerDay },
        prices: { inputPerMillion: config.inputPrice, outputPerMillion: config.outputPrice },
        label: config.name || config.model,
      });
    } catch (err) {
      this.configError = (err as Error).message;
    }
  }

  close(): void {
    this.provider?.close();
  }
}
