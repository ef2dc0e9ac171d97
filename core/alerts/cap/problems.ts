/**
 * What is wrong with a CAP document or alert, and where: the element's XPath (`/alert/info[1]/expires`; every
 * element is in the CAP 1.2 namespace, left unprefixed for reading) and, for XML input, the line.
 */
export interface CapProblem {
  xpath?: string;
  line?: number;
  message: string;
}

/** Why a CAP document was refused; `problems` lists each finding, the message words the first. */
export type CapRefusal =
  /** Bigger than the input limit; refused before parsing. */
  | 'too-large'
  /** A DOCTYPE or ENTITY declaration (XXE, billion laughs); refused before parsing. */
  | 'doctype'
  /** Not text Glimpser reads (a NUL byte: UTF-16/32). */
  | 'encoding'
  /** Not well-formed XML. */
  | 'malformed'
  /** A CAP 1.0 or 1.1 alert. */
  | 'old-version'
  /** Well-formed XML that is not a CAP 1.2 alert. */
  | 'not-cap'
  /** A CAP 1.2 alert that the OASIS XSD rejects. */
  | 'schema'
  /** A model that breaks the CAP 1.2 schema (serializer input). */
  | 'model';

export class CapError extends Error {
  constructor(
    readonly refusal: CapRefusal,
    readonly problems: CapProblem[],
    summary: string,
  ) {
    super(problems.length > 1 ? `${summary} (and ${problems.length - 1} more)` : summary);
    this.name = 'CapError';
  }
}

/** "/alert/info[1]/expires (line 12): …" — where first, then what. */
export function describeProblem(problem: CapProblem): string {
  const where = [problem.xpath, problem.line === undefined ? undefined : `line ${problem.line}`].filter(Boolean);
  if (where.length === 0) return problem.message;
  return problem.xpath && problem.line !== undefined ? `${problem.xpath} (line ${problem.line}): ${problem.message}` : `${where[0]}: ${problem.message}`;
}
