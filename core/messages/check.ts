import { Kind, Type, TypeRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * A Buffer (a JPEG on msg.payload), at least `minByteLength` long. Node-RED keeps Buffers when it clones a message,
 * so a bare Uint8Array or an array of numbers is a foreign node's mistake and is refused by name.
 */
TypeRegistry.Set<{ minByteLength?: number }>('GlimpserBuffer', (schema, value) => Buffer.isBuffer(value) && value.length >= (schema.minByteLength ?? 0));

export function BufferType(options: { minByteLength?: number; expected: string }) {
  return Type.Unsafe<Buffer>({ ...options, [Kind]: 'GlimpserBuffer' });
}

/**
 * Checks one message arriving at a node and gives it its type, or throws a MessageError naming the field that is
 * wrong and what was expected there.
 */
export type MessageCheck<M> = (msg: unknown) => M;

export class MessageError extends Error {
  constructor(
    /** The field as a user writes it: `msg.frame.timestamp`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function fieldOf(path: string): string {
  return `msg${path
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')}`;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  const text = JSON.stringify(value);
  return text === undefined ? typeof value : text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

/**
 * Compiles a message schema (TypeBox, which can also check Buffers, unlike JSON Schema) once. Each field's
 * `expected` annotation, where it has one, words the error; `what` says which message kind the node wanted, so a
 * message from a foreign node reads "msg.frame.timestamp: expected milliseconds since the epoch, got "abc" (a frame
 * message from a capture node)".
 */
export function messageCheck<S extends TSchema>(schema: S, what: string): MessageCheck<Static<S>> {
  const compiled = TypeCompiler.Compile(schema);
  return (msg: unknown) => {
    if (compiled.Check(msg)) return msg;
    const error = compiled.Errors(msg).First();
    const field = fieldOf(error?.path ?? '');
    const expected =
      (error?.schema as { expected?: string } | undefined)?.expected ??
      error?.message
        .replace(/^Expected/, '')
        .trim()
        .toLowerCase() ??
      'something else';
    throw new MessageError(field, `${field}: expected ${expected.replace(/^expected /, '')}, got ${shown(error?.value)} (${what})`);
  };
}
