import { metrics } from '../metrics';

export type DescribeOutcomeLabel = 'ok' | 'cached' | 'refused' | 'error' | 'rate_limited' | 'budget';

/** AI description metrics, declared with all the others in core/metrics.ts. */
export const describeMetrics = {
  requestsTotal: metrics.aiRequestsTotal,
  tokensTotal: metrics.aiTokensTotal,
  costTotal: metrics.aiCostTotal,
  requestSeconds: metrics.aiRequestSeconds,
};
