import { Type, type Static } from '@sinclair/typebox';
import { CATEGORIES, CERTAINTIES, SCOPES, SEVERITIES, STATUSES, URGENCIES } from './cap/model';
import { circleText, polygonText, type LatLon } from './cap/areas';
import { TEMPLATE_PLACEHOLDERS, placeholdersIn } from './build-text';

/**
 * What a cap-alert node lets a user choose about the CAP alerts it builds: one flat TypeBox schema (the node's
 * settings are these plus `version` and `name`), its defaults, and the rules between settings the schema cannot say.
 */

const oneOf = <T extends readonly string[]>(values: T) => Type.Union(values.map((value) => Type.Literal(value)));

/** CAP `<sender>` and identifiers may hold no spaces, commas, "<" or "&" (CAP 1.2 §3.2.1). */
export const SENDER_PATTERN = /^[^\s,<&]{1,255}$/;
/** `<addresses>`: space-separated recipients, each without commas, "<" or "&"; quoted names are not offered here. */
const ADDRESSES_PATTERN = /^[^,<&]*$/;

export const CapAlertSettingsSchema = Type.Object({
  sender: Type.String({ pattern: SENDER_PATTERN.source }),
  status: oneOf(STATUSES),
  scope: oneOf(SCOPES),
  addresses: Type.String({ maxLength: 1024, pattern: ADDRESSES_PATTERN.source }),
  restriction: Type.String({ maxLength: 512 }),
  category: oneOf(CATEGORIES),
  /** CAP `<event>`: a template, e.g. "{{type}}". */
  event: Type.String({ minLength: 1, maxLength: 256 }),
  urgency: oneOf(URGENCIES),
  certainty: oneOf(CERTAINTIES),
  /** The AI description's severity (low/medium/high/critical) as a CAP severity; `severityNone` when there is none. */
  severityLow: oneOf(SEVERITIES),
  severityMedium: oneOf(SEVERITIES),
  severityHigh: oneOf(SEVERITIES),
  severityCritical: oneOf(SEVERITIES),
  severityNone: oneOf(SEVERITIES),
  headline: Type.String({ maxLength: 512 }),
  description: Type.String({ maxLength: 2048 }),
  instruction: Type.String({ maxLength: 2048 }),
  language: Type.String({ pattern: '^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$' }),
  /** The camera's location: none, a circle around a point, or a polygon "lat,lon lat,lon …". */
  areaShape: oneOf(['none', 'circle', 'polygon'] as const),
  areaDesc: Type.String({ maxLength: 256 }),
  latitude: Type.Number({ minimum: -90, maximum: 90 }),
  longitude: Type.Number({ minimum: -180, maximum: 180 }),
  radiusKm: Type.Number({ minimum: 0, maximum: 20000 }),
  polygon: Type.String({ maxLength: 8192 }),
  /** Glimpser's address as people reach it (https://cams.example.org): gives the snapshot URI and `<web>`. */
  baseUrl: Type.String({ maxLength: 512 }),
  /** An event's end as a CAP Cancel, or as an Update with responseType AllClear. */
  endAs: oneOf(['cancel', 'allclear'] as const),
  /** At most one Update per event in this many seconds; the start and the end always go. */
  updateEverySeconds: Type.Number({ minimum: 0, maximum: 86400 }),
  /** How long a new alert waits for its event's snapshot to be written before it goes without. */
  snapshotWaitSeconds: Type.Number({ minimum: 0, maximum: 60 }),
});

export type CapAlertSettings = Static<typeof CapAlertSettingsSchema>;

export const CAP_ALERT_DEFAULTS: CapAlertSettings = {
  sender: 'glimpser',
  status: 'Actual',
  scope: 'Private',
  addresses: 'operators',
  restriction: '',
  category: 'Security',
  event: '{{type}}',
  urgency: 'Immediate',
  certainty: 'Observed',
  severityLow: 'Minor',
  severityMedium: 'Moderate',
  severityHigh: 'Severe',
  severityCritical: 'Extreme',
  severityNone: 'Unknown',
  headline: '{{type}} on {{camera}}',
  description: '{{caption}}',
  instruction: '',
  language: 'en-US',
  areaShape: 'none',
  areaDesc: '',
  latitude: 0,
  longitude: 0,
  radiusKm: 0,
  polygon: '',
  baseUrl: '',
  endAs: 'cancel',
  updateEverySeconds: 60,
  snapshotWaitSeconds: 5,
};

/** "lat,lon lat,lon …" as points; throws naming the pair that is not one. */
export function polygonPoints(text: string): LatLon[] {
  return text
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((pair, index) => {
      const parts = pair.split(',');
      const [latitude, longitude] = parts.map(Number);
      if (parts.length !== 2 || !Number.isFinite(latitude) || !Number.isFinite(longitude))
        throw new Error(`setting "polygon" point ${index + 1}: expected "lat,lon" in degrees, got ${JSON.stringify(pair)}`);
      return [latitude, longitude] as const;
    });
}

/** The `<polygon>` or `<circle>` text of the configured area, or null when there is none. */
export function areaShapeText(settings: CapAlertSettings): { polygon: string } | { circle: string } | null {
  if (settings.areaShape === 'polygon') return { polygon: polygonText(polygonPoints(settings.polygon)) };
  if (settings.areaShape === 'circle') return { circle: circleText([settings.latitude, settings.longitude], settings.radiusKm) };
  return null;
}

function isAbsoluteHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '';
  } catch {
    return false;
  }
}

/** The rules between settings (CAP 1.2 §3.2.1 scope, §3.2.4 area) and in templates; throws naming the setting. */
export function checkCapAlertSettings(settings: CapAlertSettings): void {
  if (settings.scope === 'Private' && !settings.addresses.trim())
    throw new Error('setting "addresses": expected the recipients of a Private alert (CAP 1.2 §3.2.1), got nothing');
  if (settings.scope === 'Restricted' && !settings.restriction.trim())
    throw new Error('setting "restriction": expected the rule that limits a Restricted alert (CAP 1.2 §3.2.1), got nothing');
  for (const name of ['event', 'headline', 'description', 'instruction'] as const) {
    const unknown = placeholdersIn(settings[name]).find((placeholder) => !TEMPLATE_PLACEHOLDERS.includes(placeholder));
    if (unknown !== undefined)
      throw new Error(`setting "${name}": {{${unknown}}} is not a placeholder; expected ${TEMPLATE_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`);
  }
  if (settings.areaShape !== 'none' && !settings.areaDesc.trim())
    throw new Error('setting "areaDesc": expected a description of the camera\'s area (CAP 1.2 §3.2.4 requires one), got nothing');
  try {
    areaShapeText(settings);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.startsWith('setting ') ? message : `setting "${settings.areaShape === 'polygon' ? 'polygon' : 'latitude'}": ${message}`);
  }
  if (settings.baseUrl !== '' && !isAbsoluteHttpUrl(settings.baseUrl))
    throw new Error(`setting "baseUrl": expected an absolute http(s) URL such as https://cams.example.org, got ${JSON.stringify(settings.baseUrl)}`);
}
