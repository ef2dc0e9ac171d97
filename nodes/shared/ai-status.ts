import { formatClock } from '../../core/describe/prompt';
import type { NotConfigured, Skipped } from '../../core/describe/vision';
import type { AiService } from '../glimpser-ai/service';
import type { Status } from './node-kit';

/*
 * The statuses ai-describe and ai-summary share, written once: ready, and every way a request made nothing. Each
 * node's locale has the keys (ready, notConfigured, budget, rateLimited, refused) in its own words.
 */

/** Why nothing was asked or made. */
export type AiSkipped = Skipped | NotConfigured;

/** The status before the first request: ready with the model, or not configured. */
export function showAiReady(status: Status, ai: AiService): void {
  if (ai.notConfigured !== null) status.show('idle', 'notConfigured');
  else status.show('idle', 'ready', { model: ai.model });
}

/** The status for a request that made nothing; times in the node's zone, a refusal with its camera where known. */
export function showAiSkipped(status: Status, skipped: AiSkipped, options: { zone?: string; camera?: string } = {}): void {
  switch (skipped.skipped) {
    case 'not_configured':
      status.show('idle', 'notConfigured');
      break;
    case 'budget':
      status.show('skipped', 'budget', { until: formatClock(skipped.resetsAt, options.zone) });
      break;
    case 'rate_limited':
      status.show('connecting', 'rateLimited', { until: formatClock(skipped.until, options.zone, true) });
      break;
    case 'refused':
      status.show('skipped', 'refused', { camera: options.camera ?? '' });
      break;
  }
}
