import type { TSchema } from '@sinclair/typebox';
import type { XmlDocument, XmlElement } from 'libxml2-wasm' with { 'resolution-mode': 'import' };
import { guardCapInput } from './guard';
import { loadLibxml, type Libxml } from './libxml';
import { CAP_NAMESPACE, CapAlertSchema, type CapAlert } from './model';
import { CapError, describeProblem, type CapProblem } from './problems';
import { checkCapModel } from './serialize';
import { libxmlMessage, xpathOfNode, xsdProblems } from './xsd';

/**
 * Reads CAP 1.2 XML into the model. In order: the input guard (size, DOCTYPE/ENTITY) before any parser sees the
 * text, then libxml2 without entity substitution, DTD loading or network, then the root must be a CAP 1.2 alert
 * (CAP 1.0/1.1 are named as such), then the OASIS XSD. Every refusal is a CapError with the XPath or line.
 */

const OLD_NAMESPACES: Record<string, string> = { 'urn:oasis:names:tc:emergency:cap:1.1': 'CAP 1.1', 'http://www.incident.com/cap/1.0': 'CAP 1.0' };

function refuse(refusal: CapError['refusal'], problems: CapProblem[], what: string): never {
  throw new CapError(refusal, problems, `${what}: ${describeProblem(problems[0])}`);
}

function readXml(libxml: Libxml, input: string | Uint8Array): XmlDocument {
  // No XML_PARSE_NOENT (entities stay unexpanded), no DTDLOAD/DTDVALID; NONET in case a build ever had network.
  const option = libxml.ParseOption.XML_PARSE_NONET | libxml.ParseOption.XML_PARSE_BIG_LINES;
  try {
    return typeof input === 'string' ? libxml.XmlDocument.fromString(input, { option }) : libxml.XmlDocument.fromBuffer(input, { option });
  } catch (error) {
    if (!(error instanceof libxml.XmlParseError)) throw error;
    const problems = error.details.map((detail) => ({ line: detail.line, message: `${libxmlMessage(detail.message)} (column ${detail.col})` }));
    return refuse('malformed', problems.length > 0 ? problems : [{ message: libxmlMessage(error.message) }], 'CAP document is not well-formed XML');
  }
}

function checkRoot(libxml: Libxml, doc: XmlDocument): void {
  if (doc.dtd) refuse('doctype', [{ message: 'it declares a DOCTYPE' }], 'CAP document refused');
  const root = doc.root;
  const where = { xpath: xpathOfNode(libxml, root), line: root.line };
  const old = OLD_NAMESPACES[root.namespaceUri];
  if (old) {
    const message = `this is a ${old} alert (namespace ${root.namespaceUri}); Glimpser reads CAP 1.2 only (namespace ${CAP_NAMESPACE})`;
    refuse('old-version', [{ ...where, message }], `${old} is not supported`);
  }
  const oldDeclared = Object.values(root.nsDeclarations).find((uri) => OLD_NAMESPACES[uri]);
  if (oldDeclared && root.namespaceUri !== CAP_NAMESPACE) {
    const message = `this is ${OLD_NAMESPACES[oldDeclared]} material (its root ${root.name} declares ${oldDeclared}), not a CAP 1.2 alert`;
    refuse('old-version', [{ ...where, message }], `${OLD_NAMESPACES[oldDeclared]} is not supported`);
  }
  if (root.name !== 'alert' || root.namespaceUri !== CAP_NAMESPACE) {
    const found = root.namespaceUri ? `{${root.namespaceUri}}${root.name}` : root.name;
    refuse('not-cap', [{ ...where, message: `expected the CAP 1.2 root element {${CAP_NAMESPACE}}alert, got ${found}` }], 'Not a CAP 1.2 alert');
  }
}

/** Opens `input` as a CAP 1.2 document, refusing what is not one; the caller disposes the document. */
async function openCapDocument(input: string | Uint8Array): Promise<{ libxml: Libxml; doc: XmlDocument; problems: CapProblem[] }> {
  guardCapInput(input);
  const libxml = await loadLibxml();
  const doc = readXml(libxml, input);
  try {
    checkRoot(libxml, doc);
    return { libxml, doc, problems: await xsdProblems(libxml, doc) };
  } catch (error) {
    doc.dispose();
    throw error;
  }
}

/**
 * Checks a CAP document against the OASIS CAP 1.2 XSD: [] when valid, else each problem with XPath and line.
 * Input that is refused outright (too large, a DOCTYPE, not XML, not CAP 1.2) throws a CapError instead.
 */
export async function validateCapXml(input: string | Uint8Array): Promise<CapProblem[]> {
  const { doc, problems } = await openCapDocument(input);
  doc.dispose();
  return problems;
}

/** Which values the XSD collapses whitespace in (times, enumerations, numbers, language); text stays as written. */
function collapses(schema: TSchema): boolean {
  return schema.pattern !== undefined || schema.anyOf !== undefined || schema.type === 'number' || schema.type === 'integer';
}

/** Reads one CAP block by its schema: nested blocks recurse, repeated elements gather into arrays. */
function readBlock(libxml: Libxml, element: XmlElement, schema: TSchema): Record<string, unknown> {
  const block: Record<string, unknown> = {};
  for (let child = element.firstChild; child; child = child.next) {
    // Only CAP elements: the XSD allows XML signatures at the end of an alert, which the model does not keep.
    if (!(child instanceof libxml.XmlElement) || child.namespaceUri !== CAP_NAMESPACE) continue;
    const property = (schema.properties as Record<string, TSchema> | undefined)?.[child.name];
    if (!property) continue;
    const single: TSchema = property.type === 'array' ? property.items : property;
    const value = single.type === 'object' ? readBlock(libxml, child, single) : collapses(single) ? child.content.trim() : child.content;
    const typed = single.type === 'number' || single.type === 'integer' ? Number(value) : value;
    if (property.type === 'array') ((block[child.name] ??= []) as unknown[]).push(typed);
    else block[child.name] = typed;
  }
  return block;
}

/** Parses CAP 1.2 XML into the model; throws a CapError (with the XPath or line of each problem) when it is not valid. */
export async function parseCap(input: string | Uint8Array): Promise<CapAlert> {
  const { libxml, doc, problems } = await openCapDocument(input);
  try {
    if (problems.length > 0) refuse('schema', problems, 'CAP 1.2 alert is not valid against the OASIS schema');
    const alert = readBlock(libxml, doc.root, CapAlertSchema);
    const modelProblems = checkCapModel(alert);
    if (modelProblems.length > 0) refuse('schema', modelProblems, 'CAP 1.2 alert does not fit the model');
    return alert as CapAlert;
  } finally {
    doc.dispose();
  }
}
