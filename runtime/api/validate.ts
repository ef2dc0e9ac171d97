import type { TSchema } from '@sinclair/typebox';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

// verbose: the error carries the schema and the value, so a refusal can say what was expected and what came.
const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
// Path and query values arrive as strings: the coercing instance checks a copy, so `limit=5` meets `Type.Integer`.
const coercing = new Ajv({ allErrors: false, strict: false, verbose: true, coerceTypes: 'array' });

/** Where a checked value came from, the first part of the field path in an error: `body.rules[0].field`. */
export type InputPart = 'body' | 'query' | 'path';

function describe(error: ErrorObject | undefined, part: InputPart): string {
  if (!error) return `${part}: invalid`;
  const inner = error.instancePath.replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
  // A query or path parameter is named on its own (`limit: ...`), a body field by its path from the body.
  const where = part === 'body' ? `body${inner}` : inner.replace(/^\./, '') || part;
  if (error.keyword === 'additionalProperties') {
    const name = String(error.params.additionalProperty);
    return part === 'body' ? `${where}: unknown property "${name}"` : `${name}: unknown ${part} parameter`;
  }
  if (error.keyword === 'required') {
    const name = String(error.params.missingProperty);
    return part === 'body' ? `${where}: missing property "${name}"` : `${name}: missing ${part} parameter`;
  }
  // A schema may say in words what it expects (`expected: 'a camera id: …'`), kinder than a regular expression.
  const expected: unknown = (error.parentSchema as { expected?: unknown } | undefined)?.expected;
  if (typeof expected === 'string') return `${where}: expected ${expected}, got ${JSON.stringify(error.data)?.slice(0, 80)}`;
  return `${where}: ${error.message ?? 'invalid'}`;
}

/** A check for one input part: undefined when the value matches, else words naming the first wrong field. */
export function compileCheck(schema: TSchema, part: InputPart, options: { coerce?: boolean } = {}): (value: unknown) => string | undefined {
  const check: ValidateFunction = (options.coerce ? coercing : ajv).compile(schema);
  return (value: unknown) => (check(value) ? undefined : describe(check.errors?.[0], part));
}
