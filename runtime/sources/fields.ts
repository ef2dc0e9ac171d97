import { checkWebUrl } from '../../core/net/url-policy';
import { type FieldValues, type SourceTemplate, type TemplateField } from './templates';

/** A field value the template cannot take; the message names the field (`fields.url: …`) and what was expected. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
    /** The URL policy refused it (rather than a malformed value). */
    readonly blocked = false,
  ) {
    super(`fields.${field}: ${message}`);
    this.name = 'FieldError';
  }
}

function hasControlChars(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

/** Camera kinds whose address Glimpser fetches over the web itself (or lets a browser or yt-dlp fetch). */
const WEB_SOURCES = new Set(['website', 'image', 'ytdlp']);

function checkUrl(template: SourceTemplate, field: TemplateField, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FieldError(field.key, `${JSON.stringify(value.slice(0, 80))} is not a URL: expected e.g. ${field.placeholder ?? 'https://host/path'}`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const schemes = field.schemes ?? ['http', 'https'];
  if (!schemes.includes(scheme))
    throw new FieldError(field.key, `${scheme}:// is not allowed for ${template.name}: expected ${schemes.map((s) => `${s}://`).join(', ')}`);
  if (url.username || url.password) throw new FieldError(field.key, 'holds a username or password: give them in the username and password fields instead');
  if (!url.hostname) throw new FieldError(field.key, 'has no host');
  // The addresses no camera needs and every request forgery wants (cloud metadata, link-local): refused for whatever
  // Glimpser fetches over http(s); loopback stays allowed, since cameras and dashboards often run on this machine.
  if (WEB_SOURCES.has(template.camera.source) || scheme === 'http' || scheme === 'https') {
    try {
      checkWebUrl(value, {}, 'the address');
    } catch (err) {
      throw new FieldError(field.key, `blocked by the URL policy: ${(err as Error).message}`, true);
    }
  }
}

/**
 * The form's values checked against what the template asks for: required fields present, lengths, no control
 * characters, URL schemes per template and the URL policy. Unknown fields are refused, so nothing lands in a flow
 * unnoticed. Empty optional fields are left out.
 */
export function checkFields(template: SourceTemplate, given: Record<string, unknown>): FieldValues {
  const asked = new Map(template.fields.map((f) => [f.key, f]));
  for (const key of Object.keys(given)) {
    if (!asked.has(key as TemplateField['key'])) {
      const takes = template.fields.map((f) => f.key).join(', ');
      throw new FieldError(key, `${template.name} has no such field: it takes ${takes}`);
    }
  }
  const values: FieldValues = {};
  for (const field of template.fields) {
    const raw = given[field.key];
    if (raw !== undefined && typeof raw !== 'string') throw new FieldError(field.key, 'expected a string');
    const value = field.kind === 'password' ? (raw ?? '') : (raw ?? '').trim();
    if (value === '') {
      if (field.required) throw new FieldError(field.key, `${field.label} is required`);
      continue;
    }
    if (value.length > field.maxLength) throw new FieldError(field.key, `${field.label} is ${value.length} characters long: at most ${field.maxLength}`);
    if (hasControlChars(value)) throw new FieldError(field.key, `${field.label} contains control characters`);
    if (field.kind === 'url') checkUrl(template, field, value);
    if (field.kind === 'path' && (value.startsWith('-') || value.split(/[\\/]/).includes('..')))
      throw new FieldError(field.key, 'expected a path inside the media folder, without ".." and not starting with "-"');
    values[field.key] = value;
  }
  if (values.password !== undefined && values.username === undefined) throw new FieldError('username', 'a password was given without a username');
  return values;
}
