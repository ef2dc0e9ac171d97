import type { CapAlert } from '../model';
import { ipaws1 } from './ipaws';
import { oasisStrict } from './oasis-strict';
import type { CapProfile, CapProfileResult } from './profile';

export { checkIpaws1, ipaws1 } from './ipaws';
export { checkOasisStrict, oasisStrict } from './oasis-strict';
export type { CapProfile, CapProfileResult } from './profile';

/** Every profile, by id; the one list callers choose from. */
export const CAP_PROFILES: Readonly<Record<string, CapProfile>> = Object.fromEntries([oasisStrict, ipaws1].map((profile) => [profile.id, profile]));

/** Checks `alert` against the profile named `id` (`oasis-strict`, `ipaws-1.0`). */
export function checkCapProfile(alert: CapAlert, id: string): CapProfileResult {
  const profile = CAP_PROFILES[id];
  if (!profile) throw new Error(`CAP profile ${JSON.stringify(id)} is unknown: expected one of ${Object.keys(CAP_PROFILES).join(', ')}`);
  return profile.check(alert);
}
