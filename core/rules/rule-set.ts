import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * A rule set: the JSON a user writes to decide which events become alerts. Rules are tried in order and the first
 * whose condition matches decides; when none matches, `default` does.
 */

export const OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'matches', 'exists'] as const;
export type Operator = (typeof OPERATORS)[number];

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

export interface LeafCondition {
  path: string;
  op: Operator;
  value?: unknown;
}
export type Condition = { all: Condition[] } | { any: Condition[] } | { none: Condition[] } | LeafCondition;

/** `event.data.ai.tags`, `payload.items[0].name`: dotted keys and [n] indexes into the message. */
export const PATH_PATTERN = '^[A-Za-z_$][\\w$-]*(\\.[A-Za-z_$][\\w$-]*|\\[\\d+\\])*$';
const TIME_PATTERN = '^([01]\\d|2[0-3]):[0-5]\\d$';

/*
 * `expected` and `noun` are annotations read back by the error translator (ajv runs with verbose on), so that
 * messages say what was expected in the user's words instead of ajv's "must match pattern".
 */
const seconds = (expected: string) => Type.Number({ minimum: 0, maximum: 31_536_000, expected });
const enumOf = <T extends string>(values: readonly T[], noun: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], noun });

const CONDITION_ID = 'glimpser.rules.condition';
const ConditionRef = Type.Unsafe<Condition>({ $ref: CONDITION_ID });
const group = (key: 'all' | 'any' | 'none') => Type.Object({ [key]: Type.Array(ConditionRef, { minItems: 1 }) }, { additionalProperties: false });

export const LeafConditionSchema = Type.Object(
  {
    path: Type.String({ pattern: PATH_PATTERN, maxLength: 256, expected: 'a message path like "event.zones" or "payload.items[0].name"' }),
    op: enumOf(OPERATORS, 'operator'),
    value: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

/**
 * if/then/else rather than anyOf picks the branch from the key the user wrote, so ajv reports the error inside
 * that branch (with its exact path) instead of one failure per alternative.
 */
export const ConditionSchema = Type.Unsafe<Condition>({
  $id: CONDITION_ID,
  type: 'object',
  if: { required: ['all'] },
  then: group('all'),
  else: { if: { required: ['any'] }, then: group('any'), else: { if: { required: ['none'] }, then: group('none'), else: LeafConditionSchema } },
});

const TimeWindowSchema = Type.Object(
  {
    from: Type.String({ pattern: TIME_PATTERN, expected: 'a time "HH:MM" from 00:00 to 23:59' }),
    to: Type.String({ pattern: TIME_PATTERN, expected: 'a time "HH:MM" from 00:00 to 23:59' }),
    days: Type.Optional(Type.Array(enumOf(DAYS, 'day'), { minItems: 1, maxItems: 7 })),
  },
  { additionalProperties: false },
);
export type TimeWindow = Static<typeof TimeWindowSchema>;

const windows = () => Type.Array(TimeWindowSchema, { minItems: 1, maxItems: 32 });

export const RuleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    when: ConditionRef,
    quietHours: Type.Optional(windows()),
    activeWindows: Type.Optional(windows()),
    dedupe: Type.Optional(
      Type.Object(
        {
          key: Type.Optional(
            Type.Array(Type.String({ pattern: PATH_PATTERN, maxLength: 256, expected: 'a message path like "camera" or "event.zones"' }), {
              minItems: 1,
              maxItems: 16,
            }),
          ),
          seconds: seconds('a number ≥ 0'),
        },
        { additionalProperties: false },
      ),
    ),
    cooldown: Type.Optional(
      Type.Object(
        { seconds: seconds('a number ≥ 0'), per: Type.Optional(enumOf(['camera', 'rule'] as const, 'cooldown scope')) },
        { additionalProperties: false },
      ),
    ),
    rateLimit: Type.Optional(
      Type.Object(
        {
          count: Type.Integer({ minimum: 1, maximum: 100_000, expected: 'a whole number ≥ 1' }),
          perSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000, expected: 'a number > 0' }),
        },
        { additionalProperties: false },
      ),
    ),
    action: Type.Optional(enumOf(['pass', 'block'] as const, 'action')),
  },
  { additionalProperties: false },
);
export type Rule = Static<typeof RuleSchema>;

export const RuleSetSchema = Type.Object(
  {
    version: Type.Literal(1),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    rules: Type.Array(RuleSchema, { maxItems: 500 }),
    default: enumOf(['pass', 'block'] as const, 'default'),
  },
  { additionalProperties: false },
);
export type RuleSet = Static<typeof RuleSetSchema>;

/** Every schema a validator must know, the recursive condition first so that references to it resolve. */
export const RULE_SCHEMAS: TSchema[] = [ConditionSchema];

/** A new rule gate lets everything through until its rules are written. */
export const EMPTY_RULE_SET: RuleSet = { version: 1, rules: [], default: 'pass' };
