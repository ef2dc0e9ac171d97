import type { Gate, Severity } from '../messages';
import { eventId } from '../store/event-id';
import {
  checkCapProfile,
  describeProblem,
  formatCapTime,
  resourceFor,
  serializeCap,
  validateCapXml,
  type CapAlert,
  type CapArea,
  type CapInfo,
  type CapProblem,
  type CapSeverity,
  type CapValuePair,
} from './cap';
import type { FirstAlert, LifecycleStep } from './build-lifecycle';
import { areaShapeText, type CapAlertSettings } from './build-settings';
import { bounded, fillTemplate, plainText, type TemplateValues } from './build-text';
import type { AlertMsgType, StoredAlert } from './index';

/**
 * Builds one CAP 1.2 alert about one phase of an event (no Node-RED here): the model from the event, its AI
 * description and rule decision and the node's settings, then the XML, checked against the OASIS XSD and the
 * `oasis-strict` profile. An alert that fails either is never returned: the error names the element and the rule.
 */

/** An event as cap-alert reads it, from a journal event (event node) or a lifecycle event (motion node). */
export interface AlertEvent {
  /** The journal event's id, when the event is in the journal. */
  id: string | null;
  /** What ties the event's phases together: its journal id, else its lifecycle key. */
  ref: string;
  camera: string;
  type: string;
  zones: string[];
  startTime: number;
  endTime: number | null;
  score: number | null;
}

export interface AlertDescription {
  caption: string;
  description: string;
  severity: Severity | null;
}

export interface AlertSnapshot {
  bytes: Buffer;
  /** Relative to the data dir (StoredAlert.snapshot.path). */
  path: string;
}

export interface BuildInput {
  step: Exclude<LifecycleStep, { kind: 'skip' }>;
  event: AlertEvent;
  ai: AlertDescription | null;
  gate: Gate | null;
  snapshot: AlertSnapshot | null;
  snapshotMissing: string | null;
  now: number;
}

/** CAP 1.2 §3.2.2 recommends headlines of at most 160 characters (SMS and other short channels). */
export const HEADLINE_MAX = 160;
export const DESCRIPTION_MAX = 4000;
export const INSTRUCTION_MAX = 1000;
const EVENT_MAX = 120;
/** Marks the headline of an event's last alert (Cancel or all-clear). */
const ENDED = ' (ended)';

const SEVERITY_SETTING: Record<Severity, keyof CapAlertSettings> = {
  low: 'severityLow',
  medium: 'severityMedium',
  high: 'severityHigh',
  critical: 'severityCritical',
};

/** The CAP severity of an AI severity (low/medium/high/critical), or the "no description" one. */
export function capSeverity(severity: Severity | null, settings: CapAlertSettings): CapSeverity {
  return (severity === null ? settings.severityNone : settings[SEVERITY_SETTING[severity]]) as CapSeverity;
}

/** `sender,identifier,sent` (CAP 1.2 §3.2.1 references), with sent written as the referenced alert wrote it. */
export function referenceOf(first: FirstAlert): string {
  return `${first.sender},${first.identifier},${formatCapTime(new Date(first.sent))}`;
}

/** An event ref as identifier text: CAP 1.2 §3.2.1 allows no spaces, commas, "<" or "&". */
function identifierPart(ref: string): string {
  return bounded(ref.replace(/[^A-Za-z0-9._:-]/g, '_'), 128);
}

/** Stable per event and phase: the same event and phase always gets the same identifier from the same sender. */
export function alertIdentifier(ref: string, step: BuildInput['step'], endAs: CapAlertSettings['endAs']): string {
  const suffix = step.kind === 'alert' ? 'alert' : step.kind === 'update' ? `update.${step.sequence}` : endAs;
  return `glimpser.${identifierPart(ref)}.${suffix}`;
}

function baseUrlOf(settings: CapAlertSettings): string | null {
  if (!settings.baseUrl) return null;
  try {
    const url = new URL(settings.baseUrl);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href.replace(/\/+$/, '') : null;
  } catch {
    return null;
  }
}

function templateValues(event: AlertEvent, ai: AlertDescription | null): TemplateValues {
  return {
    camera: event.camera,
    type: event.type,
    zones: event.zones.join(', '),
    caption: ai?.caption ?? '',
    time: formatCapTime(new Date(event.startTime)),
  };
}

function parameters(input: BuildInput): CapValuePair[] {
  const { event, gate, ai } = input;
  const pairs: CapValuePair[] = [
    { valueName: 'glimpser:camera', value: event.camera },
    { valueName: 'glimpser:event', value: plainText(event.ref, 512) },
  ];
  if (event.zones.length > 0) pairs.push({ valueName: 'glimpser:zones', value: plainText(event.zones.join(' '), 1024) });
  if (event.score !== null) pairs.push({ valueName: 'glimpser:score', value: String(event.score) });
  if (ai?.severity) pairs.push({ valueName: 'glimpser:aiSeverity', value: ai.severity });
  if (gate)
    pairs.push(
      { valueName: 'glimpser:rule', value: plainText(gate.rule ?? '(default)', 256) },
      { valueName: 'glimpser:reason', value: plainText(gate.reason, 256) },
    );
  if (input.snapshotMissing) pairs.push({ valueName: 'glimpser:snapshotMissing', value: plainText(input.snapshotMissing, 256) });
  return pairs;
}

function area(settings: CapAlertSettings): CapArea[] | undefined {
  const shape = areaShapeText(settings);
  if (!shape) return undefined;
  return [{ areaDesc: plainText(settings.areaDesc, 256), ...('polygon' in shape ? { polygon: [shape.polygon] } : { circle: [shape.circle] }) }];
}

function info(input: BuildInput, settings: CapAlertSettings, texts: { headline: string; description: string; instruction: string }): CapInfo {
  const { event, step, snapshot } = input;
  const base = baseUrlOf(settings);
  const ended = step.kind === 'end';
  const values = templateValues(event, input.ai);
  const resource =
    snapshot &&
    resourceFor({
      description: `Snapshot of camera ${event.camera}`,
      mimeType: 'image/jpeg',
      bytes: snapshot.bytes,
      ...(base && event.id ? { uri: `${base}/api/events/${encodeURIComponent(event.id)}/snapshot.jpg` } : {}),
    });
  const capInfo: CapInfo = {
    language: settings.language,
    category: [settings.category],
    event: fillTemplate(settings.event, values, EVENT_MAX) || plainText(event.type, EVENT_MAX) || 'event',
    ...(ended && settings.endAs === 'allclear' ? { responseType: ['AllClear' as const] } : {}),
    urgency: ended ? 'Past' : settings.urgency,
    severity: capSeverity(input.ai?.severity ?? null, settings),
    certainty: settings.certainty,
    onset: formatCapTime(new Date(event.startTime)),
    senderName: 'Glimpser',
    ...(texts.headline ? { headline: texts.headline } : {}),
    ...(texts.description ? { description: texts.description } : {}),
    ...(texts.instruction ? { instruction: texts.instruction } : {}),
    ...(base && event.id ? { web: `${base}/api/events/${encodeURIComponent(event.id)}` } : {}),
    parameter: parameters(input),
    ...(resource ? { resource: [resource] } : {}),
  };
  const areas = area(settings);
  return areas ? { ...capInfo, area: areas } : capInfo;
}

/** Throws when the XML breaks the OASIS XSD or the model breaks `oasis-strict`, naming the first problem. */
async function refuseInvalid(model: CapAlert, xml: string): Promise<void> {
  const problems: CapProblem[] = [...(await validateCapXml(xml)), ...checkCapProfile(model, 'oasis-strict').errors];
  if (problems.length === 0) return;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new Error(`CAP alert ${model.identifier} not sent: ${describeProblem(problems[0])}${more}`);
}

/** The CAP 1.2 alert for one phase of an event, validated; throws naming the problem when it would be invalid. */
export async function buildAlert(input: BuildInput, settings: CapAlertSettings): Promise<StoredAlert> {
  const { event, step } = input;
  const sent = Math.floor(input.now / 1000) * 1000;
  const identifier = alertIdentifier(event.ref, step, settings.endAs);
  const msgType: AlertMsgType = step.kind === 'alert' ? 'Alert' : step.kind === 'end' && settings.endAs === 'cancel' ? 'Cancel' : 'Update';
  const references = step.kind === 'alert' ? null : referenceOf(step.first);
  const values = templateValues(event, input.ai);
  const headline = fillTemplate(settings.headline, values, HEADLINE_MAX);
  const texts = {
    headline: step.kind === 'end' && headline ? `${bounded(headline, HEADLINE_MAX - ENDED.length)}${ENDED}` : headline,
    description: fillTemplate(settings.description, values, DESCRIPTION_MAX) || plainText(input.ai?.description ?? '', DESCRIPTION_MAX),
    instruction: fillTemplate(settings.instruction, values, INSTRUCTION_MAX),
  };
  const model: CapAlert = {
    identifier,
    sender: settings.sender,
    sent: formatCapTime(new Date(sent)),
    status: settings.status,
    msgType,
    source: 'Glimpser',
    scope: settings.scope,
    ...(settings.scope === 'Restricted' ? { restriction: settings.restriction.trim() } : {}),
    ...(settings.scope === 'Private' ? { addresses: settings.addresses.trim() } : {}),
    ...(references ? { references } : {}),
    incidents: identifierPart(event.ref),
    info: [info(input, settings, texts)],
  };
  const capXml = serializeCap(model);
  await refuseInvalid(model, capXml);
  return {
    id: eventId(input.now),
    identifier,
    msgType,
    references,
    eventId: event.id,
    camera: event.camera,
    sent,
    headline: texts.headline,
    description: texts.description,
    severity: model.info?.[0]?.severity ?? 'Unknown',
    capXml,
    snapshot: input.snapshot ? { path: input.snapshot.path, bytes: input.snapshot.bytes.length } : null,
    snapshotMissing: input.snapshotMissing,
    endAs: settings.endAs === 'allclear' ? 'allclear' : 'cancel',
  };
}
