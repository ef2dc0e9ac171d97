import { metrics } from '../metrics';

/** The archive's metrics, declared with all the others in core/metrics.ts. */
export const archiveMetrics = {
  bytes: metrics.archiveBytes,
  frames: metrics.archiveFrames,
  deletionsTotal: metrics.archiveDeletionsTotal,
};
