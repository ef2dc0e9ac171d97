import { Counter, Gauge, register } from 'prom-client';

// Proposed for core/metrics.ts; declared here, guarded the same way, until they move there.
function counter(name: string, help: string, labelNames: string[]): Counter<string> {
  return (register.getSingleMetric(name) as Counter<string> | undefined) ?? new Counter({ name, help, labelNames });
}

function gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
  return (register.getSingleMetric(name) as Gauge<string> | undefined) ?? new Gauge({ name, help, labelNames });
}

/** Camera labels are '' for a detector made without a camera id (tests, benchmarks). */
export const motionMetrics = {
  motionEventsTotal: counter('glimpser_motion_events_total', 'Motion events started, per camera.', ['camera']),
  motionActive: gauge('glimpser_motion_active', '1 while a motion event lasts, per camera.', ['camera']),
  motionRecalibrationsTotal: counter(
    'glimpser_motion_recalibrations_total',
    'Times motion detection started learning the scene again, per camera and reason (size: the picture size changed; lighting: most of the picture changed at once).',
    ['camera', 'reason'],
  ),
  tamperEventsTotal: counter('glimpser_tamper_events_total', 'Tamper events started, per camera and kind (covered, moved, defocused).', ['camera', 'kind']),
  tamperActive: gauge('glimpser_tamper_active', '1 while a tamper event lasts, per camera and kind.', ['camera', 'kind']),
  sceneChangesTotal: counter('glimpser_scene_changes_total', 'Snapshots that differed from the last kept one, per camera.', ['camera']),
};
