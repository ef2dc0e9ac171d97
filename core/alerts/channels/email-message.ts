import { createHash } from 'node:crypto';
import type { SendMailOptions } from 'nodemailer';
import { formatDateTime } from '../../describe/prompt';
import type { DeliveryJob, StoredAlert } from '../index';

/**
 * One alert as an email: subject, plain-text and HTML bodies from templates, the snapshot attached or shown inline,
 * the CAP document attached, and a Message-ID derived from the delivery's idempotency key so that a repeated send
 * of the same delivery (at-least-once) carries the same Message-ID and mail clients and filters see it is one mail.
 */

/** The placeholders templates may use; `{{snapshot}}` places the inline picture in the HTML body. */
export const EMAIL_PLACEHOLDERS = ['headline', 'description', 'camera', 'time', 'severity', 'snapshot'] as const;

export const DEFAULT_EMAIL_TEMPLATES = {
  subject: '{{headline}}',
  text: '{{headline}}\n\n{{description}}\n\nCamera: {{camera}}\nTime: {{time}}\nSeverity: {{severity}}\n',
  html: '<h2>{{headline}}</h2>\n<p>{{description}}</p>\n<p>Camera: {{camera}}<br>Time: {{time}}<br>Severity: {{severity}}</p>\n{{snapshot}}\n',
};

export type SnapshotMode = 'attach' | 'inline' | 'none';

export interface EmailTemplates {
  subject: string;
  text: string;
  html: string;
}

export interface EmailContent {
  templates: EmailTemplates;
  snapshot: SnapshotMode;
  attachCap: boolean;
  /** IANA zone for `{{time}}`; the host's zone when empty. */
  timeZone?: string;
}

/** The Content-ID of an inline snapshot (`<img src="cid:…">`). */
export const SNAPSHOT_CID = 'snapshot@glimpser';

const PLACEHOLDER = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;

/** The placeholders of a template that are not ones Glimpser fills, so a setting can be refused naming them. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((name) => !(EMAIL_PLACEHOLDERS as readonly string[]).includes(name));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** An RFC 5322 mailbox: `alerts@example.com` or `Glimpser <alerts@example.com>` (the HTML5 address syntax, which is what people type). */
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const NAMED = /^([^<>\r\n"]*|"[^"\r\n]*")\s*<([^<>\s]+)>$/;

/** The bare address of a mailbox, or an error naming the text and what was expected. */
export function mailboxAddress(text: string, setting: string): string {
  const trimmed = text.trim();
  const named = NAMED.exec(trimmed);
  const address = named ? named[2] : trimmed;
  if (!ADDRESS.test(address)) {
    throw new Error(`${setting}: "${trimmed}" is not an email address (expected name@example.com or Name <name@example.com>)`);
  }
  return address;
}

/** A Message-ID from the idempotency key: the key itself when it is a valid id-left, else its SHA-256. */
export function messageIdOf(idempotencyKey: string, from: string): string {
  const left =
    /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,128}$/.test(idempotencyKey) && !/^\.|\.$|\.\./.test(idempotencyKey)
      ? idempotencyKey
      : createHash('sha256').update(idempotencyKey).digest('hex');
  const domain = mailboxAddress(from, 'from').split('@')[1];
  return `<${left}@${domain}>`;
}

function valuesOf(alert: StoredAlert, timeZone: string | undefined): Record<string, string> {
  return {
    headline: alert.headline,
    description: alert.description,
    camera: alert.camera,
    time: formatDateTime(alert.sent, timeZone || undefined),
    severity: alert.severity,
  };
}

/** The mail for one delivery: what nodemailer sends from `from` to the delivery's target. */
export function buildEmail(job: DeliveryJob, from: string, content: EmailContent): SendMailOptions {
  const { alert, delivery, snapshot } = job;
  const values = valuesOf(alert, content.timeZone);
  const escaped = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, escapeHtml(v)]));
  const inline = content.snapshot === 'inline' && snapshot !== null;
  const image = inline ? `<p><img src="cid:${SNAPSHOT_CID}" alt="${escaped.camera} snapshot"></p>` : '';
  const htmlTemplate = inline && !/\{\{\s*snapshot\s*\}\}/.test(content.templates.html) ? `${content.templates.html}{{snapshot}}` : content.templates.html;
  // The alert says why it went without its picture (the event's snapshot was not written in time): so does the mail.
  const missing = content.snapshot !== 'none' && snapshot === null && alert.snapshotMissing ? alert.snapshotMissing : null;
  let text = fill(content.templates.text, { ...values, snapshot: '' });
  let html = fill(htmlTemplate, { ...escaped, snapshot: image });
  if (missing) {
    text += `\nNo snapshot: ${missing}\n`;
    html += `<p><em>No snapshot: ${escapeHtml(missing)}</em></p>\n`;
  }
  const attachments: NonNullable<SendMailOptions['attachments']> = [];
  if (snapshot && content.snapshot !== 'none') {
    attachments.push({ filename: `${alert.camera}-snapshot.jpg`, content: snapshot, contentType: 'image/jpeg', ...(inline ? { cid: SNAPSHOT_CID } : {}) });
  }
  if (content.attachCap) attachments.push({ filename: 'alert.cap.xml', content: alert.capXml, contentType: 'application/cap+xml' });
  return {
    from,
    to: delivery.target,
    // Subjects are one line: a template or headline with line breaks must not start new headers.
    subject: fill(content.templates.subject, { ...values, snapshot: '' })
      .replace(/\s*[\r\n]+\s*/g, ' ')
      .trim(),
    text,
    // An empty HTML template sends plain text only.
    ...(content.templates.html.trim() ? { html } : {}),
    attachments,
    messageId: messageIdOf(delivery.idempotencyKey, from),
    date: new Date(alert.sent),
    priority: alert.severity === 'Extreme' || alert.severity === 'Severe' ? 'high' : 'normal',
    headers: { 'X-Glimpser-Alert': alert.id },
  };
}
