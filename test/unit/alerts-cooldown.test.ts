import { AlertCooldown } from '../../core/alerts/cooldown';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const S = 1000;

describe('AlertCooldown', () => {
  it('is off at 0 for both', () => {
    const cooldown = new AlertCooldown({ cameraSeconds: 0, ruleSeconds: 0 });
    expect(cooldown.enabled).toBe(false);
    cooldown.record('porch', 'night', T0);
    expect(cooldown.hold('porch', 'night', T0)).toBeNull();
  });

  it('holds a new alert for the same camera back for cameraSeconds, other cameras not', () => {
    const cooldown = new AlertCooldown({ cameraSeconds: 60, ruleSeconds: 0 });
    cooldown.record('porch', null, T0);
    expect(cooldown.hold('porch', null, T0 + 10 * S)).toEqual({ scope: 'camera', key: 'porch', remainingMs: 50 * S });
    expect(cooldown.hold('garage', null, T0 + 10 * S)).toBeNull();
    expect(cooldown.hold('porch', null, T0 + 60 * S)).toBeNull();
  });

  it('holds a new alert decided by the same rule back for ruleSeconds, on any camera; no rule, no rule cooldown', () => {
    const cooldown = new AlertCooldown({ cameraSeconds: 0, ruleSeconds: 300 });
    cooldown.record('porch', 'night-person', T0);
    expect(cooldown.hold('garage', 'night-person', T0 + 100 * S)).toEqual({ scope: 'rule', key: 'night-person', remainingMs: 200 * S });
    expect(cooldown.hold('garage', 'parcel', T0 + 100 * S)).toBeNull();
    expect(cooldown.hold('porch', null, T0 + 100 * S)).toBeNull();
    expect(cooldown.hold('garage', 'night-person', T0 + 300 * S)).toBeNull();
  });

  it('names the camera cooldown first when both hold', () => {
    const cooldown = new AlertCooldown({ cameraSeconds: 60, ruleSeconds: 600 });
    cooldown.record('porch', 'night', T0);
    expect(cooldown.hold('porch', 'night', T0 + S)?.scope).toBe('camera');
    expect(cooldown.hold('porch', 'night', T0 + 61 * S)?.scope).toBe('rule');
  });

  it('remembers held-back events until their end', () => {
    const cooldown = new AlertCooldown({ cameraSeconds: 60, ruleSeconds: 0 });
    cooldown.holdEvent('ev-1', T0);
    expect(cooldown.isHeld('ev-1', false)).toBe(true);
    expect(cooldown.isHeld('ev-2', false)).toBe(false);
    expect(cooldown.isHeld('ev-1', true)).toBe(true);
    expect(cooldown.isHeld('ev-1', false)).toBe(false);
  });
});
