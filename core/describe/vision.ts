/**
 * What Glimpser asks of a vision model: one picture of one camera in, a short structured description out; and a
 * window of what the cameras saw in, a short brief out. The OpenAI-compatible provider (openai-provider.ts) is the
 * implementation; anything that speaks another protocol implements this interface beside it.
 */
import type { Description, Severity, Skipped, TokenUsage } from '../messages/description';

// Descriptions and skips travel on msg.ai, so their schemas live with the other messages; these are those types.
export type { Description, NotConfigured, Severity, Skipped, TokenUsage } from '../messages/description';

export type DescribeOutcome = Description | Skipped;

export interface DescribeRequest {
  /** The picture, a JPEG; it is never modified (Node-RED fan-out shares its bytes). */
  jpeg: Buffer;
  camera: string;
  /** The user prompt, with {camera}, {notes} and {datetime} not yet filled in. */
  template: string;
  notes?: string;
  /** IANA time zone the camera's {datetime} is written in; the host's when absent. */
  timeZone?: string;
  /** When the picture was taken, ms since the epoch: the {datetime}. */
  takenAt: number;
  /** Longest side, in pixels, of the picture sent; larger ones are downscaled. */
  maxSide?: number;
  /** Most bytes the JPEG sent may have. */
  maxBytes?: number;
}

export interface SourceBrief {
  camera: string;
  brief: string;
  severity: Severity;
}

export interface SummaryRequest {
  /** The user prompt, from renderSummaryPrompt (summary.ts). */
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

export interface VisionProvider {
  readonly model: string;
  describe(request: DescribeRequest): Promise<DescribeOutcome>;
  /** A text-only request for a window's brief; it shares the concurrency limit, budget and 429 pause with describe. */
  summarize(request: SummaryRequest): Promise<SummaryOutcome>;
  /** Aborts requests under way; later calls fail. */
  close(): void;
}

export function isSkipped(outcome: DescribeOutcome | SummaryOutcome): outcome is Skipped {
  return 'skipped' in outcome;
}

/** A failure the user must act on (or wait out): the message names what was wrong. */
export class DescribeError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'server' | 'malformed' | 'image' | 'request' | 'closed',
  ) {
    super(message);
    this.name = 'DescribeError';
  }
}
