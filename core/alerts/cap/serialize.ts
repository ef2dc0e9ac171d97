import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AREA_ORDER, ALERT_ORDER, CAP_NAMESPACE, CapAlertSchema, INFO_ORDER, RESOURCE_ORDER, type CapAlert } from './model';
import { CapError, type CapProblem } from './problems';

/**
 * Writes a CAP 1.2 alert as XML: elements in the XSD's sequence order, the CAP 1.2 namespace as the default one,
 * text escaped. The model is checked against the schema first, so what comes out is valid against the OASIS XSD.
 */

const checkAlert = TypeCompiler.Compile(CapAlertSchema);

/** Characters XML 1.0 allows (§2.2); a lone surrogate matches none of the ranges, so it is refused too. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** A model path (`/info/0/category/1`) as the element's XPath (`/alert/info[1]/category[2]`). */
export function xpathOfModelPath(path: string): string {
  let xpath = '/alert';
  for (const part of path.split('/').filter(Boolean)) xpath += /^\d+$/.test(part) ? `[${Number(part) + 1}]` : `/${part}`;
  return xpath;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

/** Every way `alert` breaks the CAP 1.2 schema, one problem per element. */
export function checkCapModel(alert: unknown): CapProblem[] {
  if (checkAlert.Check(alert)) return [];
  const seen = new Set<string>();
  const problems: CapProblem[] = [];
  for (const error of checkAlert.Errors(alert)) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    const expected = (error.schema as { expected?: string }).expected;
    const message =
      error.message === 'Unexpected property'
        ? 'is not a CAP 1.2 element here'
        : `expected ${expected ?? error.message.replace(/^Expected /, '')}, got ${shown(error.value)}`;
    problems.push({ xpath: xpathOfModelPath(error.path), message });
  }
  return problems;
}

function escapeText(value: string, xpath: string): string {
  const bad = NOT_XML_CHAR.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0');
    throw new CapError(
      'model',
      [{ xpath, message: `expected text XML can carry, got the character U+${code}` }],
      `${xpath}: expected text XML can carry, got U+${code}`,
    );
  }
  // "\r" is escaped because a parser turns a literal one into "\n" (XML 1.0 §2.11); ">" so "]]>" cannot appear.
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** xs:decimal has no exponent, which `String(1e-7)` would give. */
function decimalText(value: number, xpath: string): string {
  const plain = /e/i.test(String(value)) ? value.toFixed(20).replace(/\.?0+$/, '') : String(value);
  if (/e/i.test(plain))
    throw new CapError('model', [{ xpath, message: `expected a decimal number, got ${value}` }], `${xpath}: expected a decimal number, got ${value}`);
  return plain;
}

class XmlWriter {
  private readonly lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  private depth = 0;

  open(name: string, attributes = ''): void {
    this.lines.push(`${'  '.repeat(this.depth++)}<${name}${attributes}>`);
  }

  close(name: string): void {
    this.lines.push(`${'  '.repeat(--this.depth)}</${name}>`);
  }

  leaf(name: string, value: string | number, xpath: string): void {
    const content = typeof value === 'number' ? decimalText(value, xpath) : escapeText(value, xpath);
    this.lines.push(`${'  '.repeat(this.depth)}<${name}>${content}</${name}>`);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

type Block = Record<string, unknown>;

const VALUE_PAIR = ['valueName', 'value'] as const;
/** The blocks nested in an alert, by element name (each name appears in one place only in CAP 1.2). */
const BLOCKS: Record<string, readonly string[]> = {
  info: INFO_ORDER,
  resource: RESOURCE_ORDER,
  area: AREA_ORDER,
  eventCode: VALUE_PAIR,
  parameter: VALUE_PAIR,
  geocode: VALUE_PAIR,
};

function writeBlock(out: XmlWriter, block: Block, order: readonly string[], xpath: string): void {
  for (const name of order) {
    const value = block[name];
    if (value === undefined) continue;
    const values: unknown[] = Array.isArray(value) ? value : [value];
    values.forEach((item, index) => {
      const path = Array.isArray(value) ? `${xpath}/${name}[${index + 1}]` : `${xpath}/${name}`;
      const nested = BLOCKS[name];
      if (nested) {
        out.open(name);
        writeBlock(out, item as Block, nested, path);
        out.close(name);
      } else {
        out.leaf(name, item as string | number, path);
      }
    });
  }
}

/** The CAP 1.2 XML for `alert`; throws a CapError naming each element that breaks the schema. */
export function serializeCap(alert: CapAlert): string {
  const problems = checkCapModel(alert);
  if (problems.length > 0) throw new CapError('model', problems, `CAP alert not written: ${problems[0].xpath}: ${problems[0].message}`);
  const out = new XmlWriter();
  out.open('alert', ` xmlns="${CAP_NAMESPACE}"`);
  writeBlock(out, alert, ALERT_ORDER, '/alert');
  out.close('alert');
  return out.toString();
}
