/**
 * Client ids, usernames and topics come from the wire: a 16 KB client id once made a 33 KB log line, and control
 * characters in one can forge or hide log lines in a terminal. Every such field is escaped and cut before it is logged.
 */
export const LOG_FIELD_MAX_CHARS = 128;

function escaped(codePoint: number): string {
  const hex = codePoint.toString(16).padStart(codePoint > 0xff ? 4 : 2, '0');
  return codePoint > 0xff ? `\\u${hex}` : `\\x${hex}`;
}

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators (which end a line in some viewers). */
function isControl(codePoint: number): boolean {
  return codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f) || codePoint === 0x2028 || codePoint === 0x2029;
}

/**
 * The value with control characters written as `\xNN` / `\uNNNN`, cut to at most `max` characters of output; a cut
 * value ends with `… (N chars)`, N being the original length, so the log still says how long the input was.
 */
export function logField(value: string | undefined | null, max = LOG_FIELD_MAX_CHARS): string | undefined {
  if (value === undefined || value === null) return undefined;
  let out = '';
  for (const char of value) {
    const codePoint = char.codePointAt(0) ?? 0;
    const piece = isControl(codePoint) ? escaped(codePoint) : char;
    if (out.length + piece.length > max) return `${out}… (${value.length} chars)`;
    out += piece;
  }
  return out;
}
