/** The variables a prompt template may use. */
export const PROMPT_VARIABLES = ['camera', 'notes', 'datetime'] as const;

export const DEFAULT_PROMPT =
  'Camera "{camera}", picture taken {datetime}. {notes}\nDescribe what is happening: people, vehicles, animals, and anything unusual or worth an alert.';

/** The contract of the reply; kept out of the user's template so an edited prompt cannot break the parsing. */
export const SYSTEM_PROMPT = [
  'You describe single frames from security and monitoring cameras for an alerting system.',
  'Answer with one JSON object and nothing else, with exactly these keys:',
  '"caption": one sentence, at most 200 characters;',
  '"description": a few factual sentences, at most 2000 characters;',
  '"tags": up to 20 short lower-case words (e.g. "person", "car", "package");',
  '"severity": one of "low", "medium", "high", "critical";',
  '"confidence": a number from 0 to 1.',
  'If the picture cannot be read (black, blurred, covered), set caption to "UNREADABLE".',
].join('\n');

const VARIABLE = /\{([a-zA-Z_]+)\}/g;

/** Refuses templates that use a variable Glimpser does not fill, naming it, so a typo does not reach the model. */
export function checkTemplate(template: string): string {
  if (typeof template !== 'string' || template.trim() === '') throw new Error('prompt template is empty: expected text, e.g. the default prompt');
  for (const [, name] of template.matchAll(VARIABLE)) {
    if (!(PROMPT_VARIABLES as readonly string[]).includes(name))
      throw new Error(`prompt template uses {${name}}: the variables are ${PROMPT_VARIABLES.map((v) => `{${v}}`).join(', ')}`);
  }
  return template;
}

/** Refuses anything Intl does not know as an IANA time zone; '' means the host's. */
export function checkTimeZone(timeZone: string): string {
  if (timeZone === '') return timeZone;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
  } catch {
    throw new Error(`time zone "${timeZone}" is not an IANA time zone name such as "Europe/Paris" or "America/New_York"`);
  }
  return timeZone;
}

/**
 * "Monday 2024-05-06 14:03:12 GMT+2 (Europe/Paris)": the weekday helps the model judge what is unusual, the
 * offset and zone keep the time unambiguous (short names such as "CEST" depend on the ICU data installed).
 */
export function formatDateTime(ms: number, timeZone?: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: timeZone || undefined,
      weekday: 'long',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.weekday} ${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}${timeZone ? ` (${timeZone})` : ''}`;
}

/** "14:03" in the zone: for status texts such as "budget spent until 14:00". */
export function formatClock(ms: number, timeZone?: string, seconds = false): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timeZone || undefined,
    hour: '2-digit',
    minute: '2-digit',
    second: seconds ? '2-digit' : undefined,
    hourCycle: 'h23',
  }).format(new Date(ms));
}

export function renderPrompt(template: string, values: { camera: string; notes?: string; takenAt: number; timeZone?: string }): string {
  const filled: Record<string, string> = {
    camera: values.camera,
    notes: (values.notes ?? '').trim(),
    datetime: formatDateTime(values.takenAt, values.timeZone),
  };
  return checkTemplate(template)
    .replace(VARIABLE, (_match, name: string) => filled[name])
    .trim();
}
