import { metrics } from '../metrics';

/** Motion's metrics, declared with all the others in core/metrics.ts. Camera labels are '' for a detector made without a camera id. */
export const motionMetrics = {
  motionEventsTotal: metrics.motionEventsTotal,
  motionActive: metrics.motionActive,
  motionRecalibrationsTotal: metrics.motionRecalibrationsTotal,
  tamperEventsTotal: metrics.tamperEventsTotal,
  tamperActive: metrics.tamperActive,
  sceneChangesTotal: metrics.sceneChangesTotal,
};
