import type { DescribeOutcome, DescribeRequest } from './vision';

/** What the HTTP API may ask of a deployed AI provider (a glimpser-ai node): the same object its nodes share. */
export interface DescribeService {
  readonly model: string;
  /** Why it cannot be asked yet (no API key for OpenAI), or null. */
  readonly notConfigured: string | null;
  describe(request: DescribeRequest): Promise<DescribeOutcome>;
}

export interface RegisteredProvider {
  /** The glimpser-ai node's id. */
  id: string;
  name: string;
  service: DescribeService;
}

/**
 * The AI providers the deployed flows configure, by glimpser-ai node id, so that `POST /api/ai/analyze` goes
 * through the very provider the flows use: its concurrency limit, budget, cache and 429 pause included.
 */
export class AiProviderRegistry {
  private readonly providers = new Map<string, RegisteredProvider>();

  /** Registers a provider; the returned function removes it (only if it is still this one). */
  register(provider: RegisteredProvider): () => void {
    this.providers.set(provider.id, provider);
    return () => {
      if (this.providers.get(provider.id) === provider) this.providers.delete(provider.id);
    };
  }

  list(): RegisteredProvider[] {
    return [...this.providers.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): RegisteredProvider | undefined {
    return this.providers.get(id);
  }
}
