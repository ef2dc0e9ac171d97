import { Type, type Static } from '@sinclair/typebox';

/**
 * One TypeBox schema for a CAP 1.2 alert (OASIS CAP 1.2 §3.2), used by the serializer, the parser's result and the
 * HTTP API. Property names are the XML element names, repeated elements are arrays under the element's own
 * (singular) name, and the order of properties is the XSD's sequence order, so the JSON reads like the XML.
 * Optional arrays are left out rather than empty; a cardinality of "one or more" is `minItems: 1`. The schema allows
 * what the OASIS XSD allows (an empty `<mimeType/>` too); the rules beyond the XSD are in profiles/.
 */

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';

export const STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export const MSG_TYPES = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
export const SCOPES = ['Public', 'Restricted', 'Private'] as const;
export const CATEGORIES = ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'] as const;
export const RESPONSE_TYPES = ['Shelter', 'Evacuate', 'Prepare', 'Execute', 'Avoid', 'Monitor', 'Assess', 'AllClear', 'None'] as const;
export const URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
export const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;

/** CAP 1.2 §3.3.2: `YYYY-MM-DDThh:mm:ss±hh:mm`, no fractional seconds, no "Z" (UTC is "-00:00"). */
export const CAP_TIME_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$/;
const CAP_TIME_EXPECTED = 'a CAP time YYYY-MM-DDThh:mm:ss±hh:mm (CAP 1.2 §3.3.2: no fractional seconds, "-00:00" rather than "Z")';

function oneOf<T extends readonly string[]>(values: T, what: string) {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    { expected: `${what}: one of ${values.join(', ')}` },
  );
}

const text = (expected: string) => Type.String({ expected });
const time = () => Type.String({ pattern: CAP_TIME_PATTERN.source, expected: CAP_TIME_EXPECTED });

export const StatusSchema = oneOf(STATUSES, 'a status');
export const MsgTypeSchema = oneOf(MSG_TYPES, 'a message type');
export const ScopeSchema = oneOf(SCOPES, 'a scope');
export const CategorySchema = oneOf(CATEGORIES, 'a category');
export const ResponseTypeSchema = oneOf(RESPONSE_TYPES, 'a response type');
export const UrgencySchema = oneOf(URGENCIES, 'an urgency');
export const SeveritySchema = oneOf(SEVERITIES, 'a severity');
export const CertaintySchema = oneOf(CERTAINTIES, 'a certainty');

/** `<eventCode>`, `<parameter>` and `<geocode>`: a system-specific name and its value. */
export const ValuePairSchema = Type.Object(
  {
    valueName: text('the name of the coding system or parameter'),
    value: text('the value'),
  },
  { additionalProperties: false },
);

/** CAP 1.2 §3.2.3 `<resource>`. */
export const ResourceSchema = Type.Object(
  {
    resourceDesc: text('a description of the resource (CAP 1.2 §3.2.3)'),
    mimeType: text('the MIME type of the resource, e.g. "image/jpeg"'),
    size: Type.Optional(Type.Integer({ minimum: 0, expected: 'the size of the resource in bytes' })),
    uri: Type.Optional(text('the URI of the resource')),
    derefUri: Type.Optional(text('the resource itself, base64-encoded')),
    digest: Type.Optional(text('the SHA-1 digest of the resource, in hex')),
  },
  { additionalProperties: false },
);

/** CAP 1.2 §3.2.4 `<area>`. */
export const AreaSchema = Type.Object(
  {
    areaDesc: text('a description of the area (CAP 1.2 §3.2.4)'),
    polygon: Type.Optional(Type.Array(text('a polygon: "lat,lon lat,lon …" with the first pair repeated last'))),
    circle: Type.Optional(Type.Array(text('a circle: "lat,lon radiusKm"'))),
    geocode: Type.Optional(Type.Array(ValuePairSchema)),
    altitude: Type.Optional(Type.Number({ expected: 'the altitude in feet above mean sea level' })),
    ceiling: Type.Optional(Type.Number({ expected: 'the ceiling in feet above mean sea level' })),
  },
  { additionalProperties: false },
);

/** CAP 1.2 §3.2.2 `<info>`. */
export const InfoSchema = Type.Object(
  {
    language: Type.Optional(Type.String({ pattern: '^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$', expected: 'an RFC 3066 language code such as "en-US"' })),
    category: Type.Array(CategorySchema, { minItems: 1, expected: 'one or more categories' }),
    event: text('the type of event, e.g. "Intruder"'),
    responseType: Type.Optional(Type.Array(ResponseTypeSchema)),
    urgency: UrgencySchema,
    severity: SeveritySchema,
    certainty: CertaintySchema,
    audience: Type.Optional(text('the intended audience')),
    eventCode: Type.Optional(Type.Array(ValuePairSchema)),
    effective: Type.Optional(time()),
    onset: Type.Optional(time()),
    expires: Type.Optional(time()),
    senderName: Type.Optional(text('the name of the sending agency')),
    headline: Type.Optional(text('a short headline')),
    description: Type.Optional(text('a description of the event')),
    instruction: Type.Optional(text('the recommended action')),
    web: Type.Optional(text('an absolute URI for more information')),
    contact: Type.Optional(text('how to reach the sender')),
    parameter: Type.Optional(Type.Array(ValuePairSchema)),
    resource: Type.Optional(Type.Array(ResourceSchema)),
    area: Type.Optional(Type.Array(AreaSchema)),
  },
  { additionalProperties: false },
);

/** CAP 1.2 §3.2.1 `<alert>`. XML signatures (the XSD's trailing `xmldsig#` elements) are not part of the model. */
export const CapAlertSchema = Type.Object(
  {
    identifier: text('the identifier of the alert (CAP 1.2 §3.2.1)'),
    sender: text('the identifier of the sender'),
    sent: time(),
    status: StatusSchema,
    msgType: MsgTypeSchema,
    source: Type.Optional(text('the source of the alert')),
    scope: ScopeSchema,
    restriction: Type.Optional(text('the rule limiting distribution of a Restricted alert')),
    addresses: Type.Optional(text('the space-separated recipients of a Private alert')),
    code: Type.Optional(Type.Array(text('a code for special handling, e.g. a profile name'))),
    note: Type.Optional(text('a note about the alert')),
    references: Type.Optional(text('the earlier alerts this one refers to: "sender,identifier,sent" separated by spaces')),
    incidents: Type.Optional(text('the incidents this alert belongs to, separated by spaces')),
    info: Type.Optional(Type.Array(InfoSchema)),
  },
  { additionalProperties: false },
);

export type CapStatus = (typeof STATUSES)[number];
export type CapMsgType = (typeof MSG_TYPES)[number];
export type CapScope = (typeof SCOPES)[number];
export type CapCategory = (typeof CATEGORIES)[number];
export type CapResponseType = (typeof RESPONSE_TYPES)[number];
export type CapUrgency = (typeof URGENCIES)[number];
export type CapSeverity = (typeof SEVERITIES)[number];
export type CapCertainty = (typeof CERTAINTIES)[number];
export type CapValuePair = Static<typeof ValuePairSchema>;
export type CapResource = Static<typeof ResourceSchema>;
export type CapArea = Static<typeof AreaSchema>;
export type CapInfo = Static<typeof InfoSchema>;
export type CapAlert = Static<typeof CapAlertSchema>;

/** The element order of each CAP block, from the XSD's `<sequence>`s; the serializer writes in this order. */
export const ALERT_ORDER = Object.keys(CapAlertSchema.properties) as (keyof CapAlert)[];
export const INFO_ORDER = Object.keys(InfoSchema.properties) as (keyof CapInfo)[];
export const RESOURCE_ORDER = Object.keys(ResourceSchema.properties) as (keyof CapResource)[];
export const AREA_ORDER = Object.keys(AreaSchema.properties) as (keyof CapArea)[];

/** The element names that may repeat (`maxOccurs="unbounded"`); their XPaths carry a position, `info[1]`. */
export const REPEATED_ELEMENTS: ReadonlySet<string> = new Set(
  [CapAlertSchema, InfoSchema, ResourceSchema, AreaSchema].flatMap((block) =>
    Object.entries(block.properties)
      .filter(([, schema]) => schema.type === 'array')
      .map(([name]) => name),
  ),
);
