import type { CapAlert } from '../model';
import type { CapProblem } from '../problems';

/**
 * A CAP profile: the rules a community adds on top of the CAP 1.2 XSD, as code. As in google/cap-library, a check
 * returns errors (the alert breaks a MUST of the profile) and recommendations (a SHOULD) separately, each with the
 * XPath of the element concerned (`/alert/info[1]/expires`; positions count from 1, as in XPath).
 */
export interface CapProfileResult {
  errors: CapProblem[];
  recommendations: CapProblem[];
}

export interface CapProfile {
  /** The id callers select the profile by, e.g. `oasis-strict`. */
  readonly id: string;
  readonly name: string;
  /** Where the rules come from. */
  readonly source: string;
  check(alert: CapAlert): CapProfileResult;
}

/** Collects findings while a profile walks an alert. */
export class Findings implements CapProfileResult {
  readonly errors: CapProblem[] = [];
  readonly recommendations: CapProblem[] = [];

  error(xpath: string, message: string): void {
    this.errors.push({ xpath, message });
  }

  recommend(xpath: string, message: string): void {
    this.recommendations.push({ xpath, message });
  }
}

/** The XPath of each `<info>`, with the block, for the per-info rules. */
export function eachInfo(alert: CapAlert): { info: NonNullable<CapAlert['info']>[number]; xpath: string }[] {
  return (alert.info ?? []).map((info, index) => ({ info, xpath: `/alert/info[${index + 1}]` }));
}
