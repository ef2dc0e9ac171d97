/**
 * What Glimpser asks of a vision model: one picture of one camera in, a short structured description out. The
 * OpenAI-compatible provider (openai-provider.ts) is the implementation; anything that speaks another protocol
 * implements this interface beside it.
 */
export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface TokenUsage {
  prompt: number;
  completion: number;
  total: number;
}

export interface Description {
  caption: string;
  description: string;
  tags: string[];
  severity: Severity;
  confidence: number;
  model: string;
  /** Tokens this call paid for: zero when the description came from the cache. */
  tokens: TokenUsage;
  latencyMs: number;
  cached: boolean;
}

/** Why no description was made; none of these sent a request except `refused` (the model answered, uselessly). */
export type Skipped =
  | { skipped: 'budget'; resetsAt: number; reason: string }
  | { skipped: 'rate_limited'; until: number; reason: string }
  | { skipped: 'refused'; reason: string };

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

export interface VisionProvider {
  readonly model: string;
  describe(request: DescribeRequest): Promise<DescribeOutcome>;
  /** Aborts requests under way; later calls fail. */
  close(): void;
}

export function isSkipped(outcome: DescribeOutcome): outcome is Skipped {
  return 'skipped' in outcome;
}

/** A failure the user must act on (or wait out): the message names what was wrong. */
export class DescribeError extends Error {
  constructor(message: string, readonly kind: 'timeout' | 'server' | 'malformed' | 'image' | 'request' | 'closed') {
    super(message);
    this.name = 'DescribeError';
  }
}
