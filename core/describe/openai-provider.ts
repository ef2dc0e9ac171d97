import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { Budget, UNLIMITED, type BudgetLimits } from './budget';
import { CACHE_DEFAULTS, DescriptionCache, type CacheOptions } from './cache';
import { describeMetrics, type DescribeOutcomeLabel } from './describe-metrics';
import { dHash } from './dhash';
import { prepareImage, type PreparedImage } from './image';
import { classifyFailure } from './openai-errors';
import { renderPrompt, SYSTEM_PROMPT } from './prompt';
import { refusalIn } from './refusal';
import { parseReply, parseSummaryReply, type ParsedReply } from './reply';
import { DEFAULT_RATE_LIMIT_PAUSE_MS, retryAfterMs } from './retry-after';
import { Semaphore } from './semaphore';
import { SUMMARY_SYSTEM_PROMPT } from './summary';
import {
  DescribeError,
  isSkipped,
  type DescribeOutcome,
  type DescribeRequest,
  type Description,
  type Skipped,
  type SummaryOutcome,
  type SummaryRequest,
  type TokenUsage,
  type VisionProvider,
} from './vision';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** A reply that parsed, with what it cost. */
interface Completed<T> {
  reply: T;
  model: string;
  tokens: TokenUsage;
  latencyMs: number;
}

export interface OpenAIVisionOptions {
  /** Any OpenAI-compatible Chat Completions endpoint: OpenAI, Azure OpenAI's /openai/v1, Ollama, llama.cpp, vLLM. */
  baseURL: string;
  /** Local servers may need none. */
  apiKey?: string;
  model: string;
  timeoutMs?: number;
  maxConcurrent?: number;
  budget?: Partial<BudgetLimits>;
  /** Prices per million tokens, for the estimated-cost metric. */
  prices?: { inputPerMillion: number; outputPerMillion: number };
  cache?: Partial<Omit<CacheOptions, 'now'>>;
  /** Wait before the one retry after a server error. */
  retryBackoffMs?: number;
  /** Name in metrics; the model when absent. */
  label?: string;
  now?: () => number;
}

/**
 * A VisionProvider over the official openai SDK. Glimpser owns retries (the SDK's are off): a 429 pauses this
 * provider only, for as long as the server asks, and while paused or over budget no request is sent at all.
 */
export class OpenAIVisionProvider implements VisionProvider {
  readonly model: string;
  readonly baseURL: string;
  private readonly client: OpenAI;
  private readonly timeoutMs: number;
  private readonly slots: Semaphore;
  private readonly budget: Budget;
  private readonly cache: DescriptionCache;
  private readonly now: () => number;
  private readonly label: string;
  private readonly aborts = new AbortController();
  private pausedUntil = 0;
  private closed = false;

  constructor(private readonly options: OpenAIVisionOptions) {
    this.model = options.model;
    this.baseURL = options.baseURL.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.label = options.label || options.model;
    // The SDK insists on a key; servers that need none ignore the placeholder.
    this.client = new OpenAI({ baseURL: this.baseURL, apiKey: options.apiKey || 'no-key', timeout: this.timeoutMs + 5000, maxRetries: 0 });
    this.slots = new Semaphore(options.maxConcurrent ?? 2);
    this.budget = new Budget({ ...UNLIMITED, ...options.budget }, this.now);
    this.cache = new DescriptionCache({ ...CACHE_DEFAULTS, ...options.cache, now: this.now });
  }

  /** When this provider may send again after a 429, or null when it is not paused. */
  get rateLimitedUntil(): number | null {
    return this.pausedUntil > this.now() ? this.pausedUntil : null;
  }

  describe(request: DescribeRequest): Promise<DescribeOutcome> {
    return this.counted(() => this.describeScene(request));
  }

  /**
   * A text-only request for a summary of a window (see summary.ts). It shares everything with describe: the
   * concurrency limit, the budget, the 429 pause, the timeout, the one retry and the refusal filter.
   */
  summarize(request: SummaryRequest): Promise<SummaryOutcome> {
    return this.counted(async () => {
      const gate = this.gate();
      if (gate) return gate;
      const messages: ChatCompletionMessageParam[] = [
        { role: 'system', content: SUMMARY_SYSTEM_PROMPT },
        { role: 'user', content: request.prompt },
      ];
      const done = await this.slots.run(() => this.complete(messages, parseSummaryReply));
      if ('skipped' in done) return done;
      const refusal = refusalIn(done.reply.summary);
      if (refusal) return { skipped: 'refused', reason: refusal };
      return { summary: done.reply.summary, sources: done.reply.sources, model: done.model, tokens: done.tokens, latencyMs: done.latencyMs };
    });
  }

  close(): void {
    this.closed = true;
    this.aborts.abort();
    this.cache.clear();
  }

  private async describeScene(request: DescribeRequest): Promise<DescribeOutcome> {
    const started = performance.now();
    const jpeg = request.jpeg;
    if (!Buffer.isBuffer(jpeg) || jpeg.length < 3 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8)
      throw new DescribeError(
        `the picture must be a JPEG Buffer: got ${Buffer.isBuffer(jpeg) ? `${jpeg.length} bytes that are not a JPEG` : typeof jpeg}`,
        'image',
      );
    const hash = await dHash(jpeg);
    const scope = createHash('sha256')
      .update([request.camera, this.model, request.template, request.notes ?? ''].join('\0'))
      .digest('hex');
    const cached = this.cache.get(scope, hash);
    if (cached) return { ...cached, tokens: { prompt: 0, completion: 0, total: 0 }, latencyMs: Math.round(performance.now() - started), cached: true };
    const gate = this.gate();
    if (gate) return gate;
    // Downscaled only now: a cached, paused or over-budget call never pays for the resize.
    const image = await prepareImage(jpeg, request.maxSide, request.maxBytes);
    const user = renderPrompt(request.template, { camera: request.camera, notes: request.notes, takenAt: request.takenAt, timeZone: request.timeZone });
    const outcome = await this.slots.run(() => this.send(image, user));
    if (!isSkipped(outcome)) this.cache.set(scope, hash, outcome);
    return outcome;
  }

  /** Why nothing may be sent now, or null. Checked again inside the slot: a 429 may have come while waiting. */
  private gate(): Skipped | null {
    const now = this.now();
    if (this.pausedUntil > now) return { skipped: 'rate_limited', until: this.pausedUntil, reason: `${this.label} asked Glimpser to wait (HTTP 429)` };
    const budget = this.budget.check();
    return budget.ok ? null : { skipped: 'budget', resetsAt: budget.resetsAt, reason: budget.reason };
  }

  private async send(image: PreparedImage, user: string): Promise<DescribeOutcome> {
    const done = await this.complete(
      [
        { role: 'system', content: SYSTEM_PROMPT },
        {
          role: 'user',
          content: [
            { type: 'text', text: user },
            { type: 'image_url', image_url: { url: image.dataUrl } },
          ],
        },
      ],
      parseReply,
    );
    if ('skipped' in done) return done;
    const captionRefusal = refusalIn(done.reply.caption);
    if (captionRefusal) return { skipped: 'refused', reason: captionRefusal };
    const { caption, description, tags, severity, confidence } = done.reply;
    const result: Description = {
      caption,
      description,
      tags,
      severity,
      confidence,
      model: done.model,
      tokens: done.tokens,
      latencyMs: done.latencyMs,
      cached: false,
    };
    return result;
  }

  /** One JSON reply: a 429 pauses, a server error is retried once, a malformed reply is asked for once more. */
  private async complete<T>(messages: ChatCompletionMessageParam[], parse: (content: string) => ParsedReply<T>): Promise<Completed<T> | Skipped> {
    const body = { model: this.model, messages, response_format: { type: 'json_object' as const } };
    const tokens: TokenUsage = { prompt: 0, completion: 0, total: 0 };
    let malformed: string | null = null;
    let serverRetried = false;
    const sentAt = performance.now();
    for (;;) {
      if (this.closed) throw new DescribeError(`AI provider ${this.label} was closed before the request was sent`, 'closed');
      const gate = this.gate();
      if (gate) return gate;
      const spend = this.budget.spend();
      let completion: ChatCompletion;
      const attemptAt = performance.now();
      // Glimpser's own deadline covers the whole reply, body included; the SDK's stops at the response headers.
      const deadline = AbortSignal.timeout(this.timeoutMs);
      try {
        completion = await this.client.chat.completions.create(body, { signal: AbortSignal.any([this.aborts.signal, deadline]) });
      } catch (err) {
        const failure = classifyFailure(err, {
          baseURL: this.baseURL,
          model: this.model,
          timeoutMs: this.timeoutMs,
          closed: this.closed,
          timedOut: deadline.aborted,
        });
        if (failure.kind === 'rate_limited') {
          const now = this.now();
          this.pausedUntil = Math.max(this.pausedUntil, now + (retryAfterMs(failure.headers, now) ?? DEFAULT_RATE_LIMIT_PAUSE_MS));
          return { skipped: 'rate_limited', until: this.pausedUntil, reason: `${this.label} answered HTTP 429: ${failure.message}` };
        }
        if (failure.kind === 'retryable' && !serverRetried) {
          serverRetried = true;
          await new Promise((resolve) => setTimeout(resolve, this.options.retryBackoffMs ?? 1000).unref());
          continue;
        }
        throw failure.error;
      }
      describeMetrics.requestSeconds.observe({ provider: this.label }, (performance.now() - attemptAt) / 1000);
      const usage = this.account(completion, tokens);
      spend.settle(usage.total);
      const choice = completion.choices?.[0];
      const message = choice?.message;
      if (message?.refusal) return { skipped: 'refused', reason: `the model refused: "${message.refusal}"` };
      if (choice?.finish_reason === 'content_filter') return { skipped: 'refused', reason: "the provider's content filter withheld the reply" };
      const content = message?.content ?? '';
      const refusal = refusalIn(content);
      if (refusal) return { skipped: 'refused', reason: refusal };
      const parsed = parse(content);
      if (!parsed.ok) {
        if (malformed === null) {
          malformed = parsed.problem;
          continue;
        }
        throw new DescribeError(
          `model ${this.model} at ${this.baseURL} sent a malformed reply twice; the last: ${parsed.problem} (first: ${malformed})`,
          'malformed',
        );
      }
      return { reply: parsed.reply, model: completion.model || this.model, tokens, latencyMs: Math.round(performance.now() - sentAt) };
    }
  }

  /** Adds a reply's usage to the call's running total, the metrics and the estimated cost; returns the reply's own. */
  private account(completion: ChatCompletion, total: TokenUsage): TokenUsage {
    const prompt = completion.usage?.prompt_tokens ?? 0;
    const completionTokens = completion.usage?.completion_tokens ?? 0;
    const usage = { prompt, completion: completionTokens, total: completion.usage?.total_tokens ?? prompt + completionTokens };
    total.prompt += usage.prompt;
    total.completion += usage.completion;
    total.total += usage.total;
    describeMetrics.tokensTotal.inc({ provider: this.label, kind: 'prompt' }, usage.prompt);
    describeMetrics.tokensTotal.inc({ provider: this.label, kind: 'completion' }, usage.completion);
    const prices = this.options.prices;
    if (prices)
      describeMetrics.costTotal.inc({ provider: this.label }, (usage.prompt * prices.inputPerMillion + usage.completion * prices.outputPerMillion) / 1e6);
    return usage;
  }

  /** Runs one describe or summarize call and counts its outcome. */
  private async counted<T extends DescribeOutcome | SummaryOutcome>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new DescribeError(`AI provider ${this.label} is closed`, 'closed');
    try {
      const outcome = await work();
      this.count('skipped' in outcome ? outcome.skipped : 'cached' in outcome && outcome.cached ? 'cached' : 'ok');
      return outcome;
    } catch (err) {
      this.count('error');
      throw err;
    }
  }

  private count(outcome: DescribeOutcomeLabel): void {
    describeMetrics.requestsTotal.inc({ provider: this.label, outcome });
  }
}
