import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/** What a camera reads: a generated test picture, a network stream, or a clip from the media folder. */
export type CaptureInput =
  { kind: 'demo'; width: number; height: number; fps: number } | { kind: 'url'; url: string } | { kind: 'file'; path: string; loop?: boolean };

export interface InputPolicy {
  /** The only folder file inputs may read from; without one, file inputs are refused. */
  mediaDir?: string;
}

const URL_SCHEMES = ['rtsp:', 'rtsps:', 'http:', 'https:'];
const FIELDS: Record<CaptureInput['kind'], string[]> = {
  demo: ['kind', 'width', 'height', 'fps'],
  url: ['kind', 'url'],
  file: ['kind', 'path', 'loop'],
};
/** Control characters: the URL parser silently drops some of them, ffmpeg would not. */
function hasControlChars(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Checks a camera's input from config or a flow and returns it in the form capture uses (file paths become
 * real absolute paths). Everything here ends up as an ffmpeg argument, so anything ffmpeg could read as an
 * option, a protocol or a file outside the media folder is refused.
 */
export function validateInput(input: unknown, policy: InputPolicy = {}): CaptureInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error(`input must be an object with a "kind" of demo, url or file, got ${describe(input)}`);
  }
  const fields = input as Record<string, unknown>;
  const kind = fields.kind;
  if (kind !== 'demo' && kind !== 'url' && kind !== 'file') {
    throw new Error(`input.kind ${describe(kind)} is invalid: expected "demo", "url" or "file"`);
  }
  const unknown = Object.keys(fields).filter((key) => !FIELDS[kind].includes(key));
  if (unknown.length > 0) {
    throw new Error(`input.${unknown[0]} is not a field of a ${kind} input: expected only ${FIELDS[kind].join(', ')}`);
  }
  if (kind === 'demo') {
    return {
      kind,
      width: integerIn(fields.width, 'input.width', 16, 7680),
      height: integerIn(fields.height, 'input.height', 16, 4320),
      fps: fpsOf(fields.fps, 'input.fps'),
    };
  }
  if (kind === 'url') return { kind, url: checkUrl(fields.url) };
  if (fields.loop !== undefined && typeof fields.loop !== 'boolean') {
    throw new Error(`input.loop ${describe(fields.loop)} is invalid: expected true or false`);
  }
  const file: CaptureInput = { kind, path: checkFile(fields.path, policy.mediaDir) };
  if (fields.loop !== undefined) file.loop = fields.loop;
  return file;
}

function checkUrl(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new Error(`input.url ${describe(value)} is invalid: expected an rtsp://, rtsps://, http:// or https:// URL`);
  }
  if (value.startsWith('-')) {
    throw new Error(`input.url "${redactUrl(value)}" starts with "-", which ffmpeg would read as an option: expected a URL`);
  }
  if (/\s/.test(value) || hasControlChars(value)) {
    throw new Error(`input.url "${redactUrl(value)}" contains whitespace or control characters: percent-encode them`);
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`input.url "${redactUrl(value)}" is not a valid URL: expected e.g. rtsp://camera.local:554/stream`);
  }
  if (!URL_SCHEMES.includes(parsed.protocol)) {
    throw new Error(`input.url scheme "${parsed.protocol}" is not allowed: expected rtsp, rtsps, http or https`);
  }
  if (parsed.hostname === '') {
    throw new Error(`input.url "${redactUrl(value)}" has no host: expected ${parsed.protocol}//host/...`);
  }
  return value;
}

function checkFile(value: unknown, mediaDir: string | undefined): string {
  if (typeof value !== 'string' || value === '') {
    throw new Error(`input.path ${describe(value)} is invalid: expected a file path inside the media folder`);
  }
  if (mediaDir === undefined || mediaDir === '') {
    throw new Error('input.path cannot be used: no media folder (mediaDir) is configured, so file inputs are disabled');
  }
  if (value.startsWith('-')) {
    throw new Error(`input.path "${value}" starts with "-", which ffmpeg would read as an option: expected a file path`);
  }
  // ffmpeg reads "proto:rest" as a protocol (file:, concat:, subfile:...), which would bypass the folder check.
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) || hasControlChars(value)) {
    throw new Error(`input.path "${value}" looks like a URL or holds control characters: expected a plain file path inside the media folder`);
  }
  const root = path.resolve(mediaDir);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new Error(`mediaDir "${root}" does not exist: create it or configure another media folder`);
  }
  const requested = path.resolve(root, value);
  if (!isInside(root, requested)) {
    throw new Error(`input.path "${value}" escapes the media folder "${root}": expected a path inside it`);
  }
  let real: string;
  try {
    real = realpathSync(requested);
  } catch {
    throw new Error(`input.path "${value}" does not exist in the media folder "${root}"`);
  }
  if (!isInside(realRoot, real)) {
    throw new Error(`input.path "${value}" is a link that leads outside the media folder "${root}": expected a file inside it`);
  }
  if (!statSync(real).isFile()) {
    throw new Error(`input.path "${value}" is not a regular file: expected a video or image file`);
  }
  return real;
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${field} ${describe(value)} is invalid: expected a whole number from ${min} to ${max}`);
  }
  return value;
}

function fpsOf(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 60) {
    throw new Error(`${field} ${describe(value)} is invalid: expected frames per second above 0 and at most 60`);
  }
  return value;
}

function describe(value: unknown): string {
  return value === undefined ? 'missing' : (JSON.stringify(value) ?? String(value));
}

const SECRET_PARAM = /pass|pwd|token|key|secret|auth|sig|credential/i;
/**
 * Scheme and authority up to the last "@" before the path: the same userinfo the WHATWG parser finds. Not
 * anchored, so a URL behind a stray prefix (a leading "-", a log line) is masked too.
 */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/gi;

/**
 * The URL with its user, password and secret-looking query values replaced by `***`. Works on the text, not
 * a parsed URL, so everything else reads exactly as the user wrote it, and so does a URL that fails to parse.
 */
export function redactUrl(url: string): string {
  const withoutUser = url.replace(USERINFO, (_match, scheme: string, userinfo: string) => `${scheme}${userinfo.includes(':') ? '***:***' : '***'}@`);
  return withoutUser.replace(/([?&;])([^=&#;]*)=([^&#;]*)/g, (match, sep: string, name: string) =>
    SECRET_PARAM.test(safeDecode(name)) ? `${sep}${name}=***` : match,
  );
}

/** The secret parts of a URL as they may show up in text, raw and percent-decoded, longest first. */
export function urlSecrets(url: string): string[] {
  const secrets = new Set<string>();
  const userinfo = [...url.matchAll(USERINFO)][0]?.[2];
  const colon = userinfo?.indexOf(':') ?? -1;
  if (userinfo !== undefined && colon !== -1) secrets.add(userinfo.slice(colon + 1));
  for (const match of url.matchAll(/[?&;]([^=&#;]*)=([^&#;]*)/g)) {
    if (SECRET_PARAM.test(safeDecode(match[1]))) secrets.add(match[2]);
  }
  for (const secret of [...secrets]) secrets.add(safeDecode(secret));
  secrets.delete('');
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** Free text (an ffmpeg error line, a status) with the URL and its secrets masked wherever they appear. */
export function redactText(text: string, url: string): string {
  let redacted = text.split(url).join(redactUrl(url));
  for (const secret of urlSecrets(url)) redacted = redacted.split(secret).join('***');
  return redacted;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
