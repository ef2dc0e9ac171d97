/**
 * Noise control for new alerts: after an alert for a camera, the next new alert for that camera waits
 * `cameraSeconds`; after one decided by a rule (msg.gate.rule), the next by that rule waits `ruleSeconds` —
 * on any camera. 0 turns either off. Only an event's first alert is held back: its Updates and its end are about an
 * alert people already have, and an event whose first alert was held back sends nothing later either.
 */
export interface CooldownSettings {
  cameraSeconds: number;
  ruleSeconds: number;
}

/** Why a new alert is held back: which cooldown, for what, and how much of it is left. */
export interface CooldownHold {
  scope: 'camera' | 'rule';
  /** The camera id or the rule name. */
  key: string;
  remainingMs: number;
}

const HELD_EVENT_MS = 86_400_000;

export class AlertCooldown {
  /** When the last new alert went, per camera and per rule. */
  private readonly lastByCamera = new Map<string, number>();
  private readonly lastByRule = new Map<string, number>();
  /** Events whose first alert was held back, and when: their later messages send nothing either. */
  private readonly heldEvents = new Map<string, number>();

  constructor(private readonly settings: CooldownSettings) {}

  get enabled(): boolean {
    return this.settings.cameraSeconds > 0 || this.settings.ruleSeconds > 0;
  }

  /** Whether a new alert for `camera`, decided by `rule` (null: no rule, or the gate's default), must wait. */
  hold(camera: string, rule: string | null, now: number): CooldownHold | null {
    const camerasLeft = this.left(this.lastByCamera.get(camera), this.settings.cameraSeconds, now);
    if (camerasLeft > 0) return { scope: 'camera', key: camera, remainingMs: camerasLeft };
    if (rule === null) return null;
    const rulesLeft = this.left(this.lastByRule.get(rule), this.settings.ruleSeconds, now);
    return rulesLeft > 0 ? { scope: 'rule', key: rule, remainingMs: rulesLeft } : null;
  }

  /** Remembers a new alert that went; entries whose cooldown is over are forgotten, so the maps stay small. */
  record(camera: string, rule: string | null, now: number): void {
    if (this.settings.cameraSeconds > 0) this.remember(this.lastByCamera, camera, this.settings.cameraSeconds, now);
    if (this.settings.ruleSeconds > 0 && rule !== null) this.remember(this.lastByRule, rule, this.settings.ruleSeconds, now);
  }

  /** Remembers an event whose first alert was held back; forgotten at its end, or after a day (an end never seen). */
  holdEvent(ref: string, now: number): void {
    for (const [other, at] of this.heldEvents) if (at + HELD_EVENT_MS <= now) this.heldEvents.delete(other);
    this.heldEvents.set(ref, now);
  }

  /** Whether the event's first alert was held back; `ended` forgets it (its end is the last message about it). */
  isHeld(ref: string, ended: boolean): boolean {
    const held = this.heldEvents.has(ref);
    if (ended) this.heldEvents.delete(ref);
    return held;
  }

  private left(last: number | undefined, seconds: number, now: number): number {
    return last === undefined || seconds <= 0 ? 0 : last + seconds * 1000 - now;
  }

  private remember(map: Map<string, number>, key: string, seconds: number, now: number): void {
    for (const [other, at] of map) if (at + seconds * 1000 <= now) map.delete(other);
    map.set(key, now);
  }
}
