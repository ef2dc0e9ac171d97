/**
 * Headline, description, instruction and event templates: `{{name}}` placeholders filled with text, nothing more —
 * no expressions, no code, so a template typed in the editor cannot run anything, and every result has a bound.
 */

export const TEMPLATE_PLACEHOLDERS: readonly string[] = ['camera', 'type', 'zones', 'caption', 'time'];

export type TemplateValues = Record<'camera' | 'type' | 'zones' | 'caption' | 'time', string>;

const PLACEHOLDER = /\{\{\s*([^{}\s]*)\s*\}\}/g;

/** The names of the placeholders a template uses. */
export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
}

/** Whether XML can carry the character and a reader wants it: no control characters but tab and newlines, no lone surrogates. */
function isReadable(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20) return code === 0x09 || code === 0x0a || code === 0x0d;
  return code !== 0x7f && code !== 0xfffe && code !== 0xffff && (code < 0xd800 || code > 0xdfff);
}

/** Cuts `text` to at most `max` characters (code points), marking the cut with "…". */
export function bounded(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** `text` without characters XML cannot carry (a model's caption may hold some), spaces collapsed, bounded. */
export function plainText(text: string, max: number): string {
  const readable = [...text].filter(isReadable).join('');
  return bounded(readable.replace(/[ \t]+/g, ' ').trim(), max);
}

/** Fills a template; unknown placeholders stay as written (settings are checked for them), the result is bounded. */
export function fillTemplate(template: string, values: TemplateValues, max: number): string {
  return plainText(
    template.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(values, name) ? values[name as keyof TemplateValues] : whole)),
    max,
  );
}
