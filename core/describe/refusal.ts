/**
 * Replies that answer nothing: a caption like this would be shown to a user as if it described the scene. The
 * patterns cover the stock openings of OpenAI, Llama, Qwen and Gemma refusals, and the UNREADABLE marker the
 * system prompt asks for.
 */
const REFUSALS: RegExp[] = [
  /^\s*i(?:'|’)?m\s+sorry\b/i,
  /^\s*i\s+am\s+sorry\b/i,
  /^\s*sorry\b/i,
  /^\s*(?:unfortunately,?\s+)?i\s+(?:can(?:'|’)?t|cannot|can\s+not|won(?:'|’)?t|am\s+(?:not\s+able|unable)|(?:'|’)?m\s+(?:not\s+able|unable))\b/i,
  /^\s*as\s+an\s+ai\b/i,
  /^\s*unreadable\b/i,
];

/** The refusal's reason when `text` is one, else null. */
export function refusalIn(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === '') return 'the model returned an empty caption';
  if (REFUSALS.some((pattern) => pattern.test(trimmed))) return `the model declined: "${trimmed.length > 120 ? `${trimmed.slice(0, 117)}…` : trimmed}"`;
  return null;
}
