/**
 * The message a rule reads, with two figures an event does not carry but rules often ask about:
 * `event.duration` (seconds from start to end; absent while the event lasts) and `event.area` (the fraction of the
 * picture its boxes cover, overlaps counted twice and capped at 1). Events come both as the motion node sends them
 * (times in milliseconds) and as the journal shows them (ISO times plus `startTimeMs`).
 */
export function ruleSubject(msg: Record<string, unknown>): Record<string, unknown> {
  const event = msg.event;
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return msg;
  const fields = event as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  const start = millis(fields.startTimeMs ?? fields.startTime);
  const end = millis(fields.endTimeMs ?? fields.endTime);
  if (!('duration' in fields) && start !== undefined && end !== undefined) extra.duration = (end - start) / 1000;
  if (!('area' in fields) && Array.isArray(fields.boxes))
    extra.area = Math.min(
      1,
      fields.boxes.reduce((sum: number, box: unknown) => sum + boxArea(box), 0),
    );
  return Object.keys(extra).length === 0 ? msg : { ...msg, event: { ...fields, ...extra } };
}

function millis(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function boxArea(box: unknown): number {
  if (box === null || typeof box !== 'object') return 0;
  const { width, height } = box as { width?: unknown; height?: unknown };
  return typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0 ? width * height : 0;
}
