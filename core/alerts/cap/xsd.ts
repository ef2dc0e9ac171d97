import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { XmlDocument, XmlNode, XsdValidator } from 'libxml2-wasm' with { 'resolution-mode': 'import' };
import { loadLibxml, type Libxml } from './libxml';
import { CAP_NAMESPACE, REPEATED_ELEMENTS } from './model';
import type { CapProblem } from './problems';

/**
 * Validation against the official OASIS CAP 1.2 schema (schema/CAP-v1.2.xsd, copied byte for byte; the OASIS
 * notice in schema/NOTICE.md allows that). The XSD has no imports or includes, so it is read once, from memory.
 */

const XSD_NAME = 'CAP-v1.2.xsd';

/** Beside this file: in the sources, and in dist/ where the build copies it (scripts/build-nodes.mjs). */
export function capSchemaPath(): string {
  const file = path.join(__dirname, 'schema', XSD_NAME);
  if (!existsSync(file)) throw new Error(`CAP 1.2 schema ${XSD_NAME} not found at ${file}`);
  return file;
}

let validator: Promise<XsdValidator> | undefined;

/** The compiled schema, kept for the life of the process (with the document it was compiled from). */
export function capValidator(): Promise<XsdValidator> {
  validator ??= loadLibxml().then((libxml) => libxml.XsdValidator.fromDoc(libxml.XmlDocument.fromString(readFileSync(capSchemaPath(), 'utf8'))));
  return validator;
}

/** An element's XPath in CAP terms (`/alert/info[1]/area[2]/polygon[1]`); foreign elements keep their prefix. */
export function xpathOfNode(libxml: Libxml, node: XmlNode): string {
  const steps: string[] = [];
  for (let element = node instanceof libxml.XmlElement ? node : node.parent; element; element = element.parent) {
    const foreign = element.namespaceUri !== CAP_NAMESPACE;
    const name = foreign && element.prefix ? `${element.prefix}:${element.name}` : element.name;
    let position = 0;
    if (REPEATED_ELEMENTS.has(element.name) && element.parent) {
      for (let sibling = element.parent.firstChild; sibling; sibling = sibling.next) {
        if (sibling instanceof libxml.XmlElement && sibling.name === element.name && sibling.namespaceUri === element.namespaceUri) position++;
        if (sibling.isSameNode(element)) break;
      }
    }
    steps.unshift(position > 0 ? `${name}[${position}]` : name);
  }
  return `/${steps.join('/')}`;
}

/** libxml2's wording, with the CAP namespace left out of element names so it reads like the document. */
export function libxmlMessage(message: string): string {
  return message.replaceAll(`{${CAP_NAMESPACE}}`, '').trim();
}

/** Every way `doc` breaks the CAP 1.2 XSD, with the element's XPath and line. */
export async function xsdProblems(libxml: Libxml, doc: XmlDocument): Promise<CapProblem[]> {
  const schema = await capValidator();
  try {
    schema.validate(doc);
    return [];
  } catch (error) {
    if (!(error instanceof libxml.XmlValidateError)) throw error;
    return error.details.map((detail) => {
      const node = detail.xpath ? doc.get(detail.xpath) : null;
      return { xpath: node ? xpathOfNode(libxml, node) : detail.xpath, line: detail.line || undefined, message: libxmlMessage(detail.message) };
    });
  }
}
