import { CapError } from './problems';

/**
 * The checks a CAP document passes before any XML parser sees it. A CAP 1.2 alert never needs a DTD, so any
 * DOCTYPE or ENTITY declaration is refused outright: that closes external entities (XXE: local files, internal
 * URLs) and entity expansion bombs ("billion laughs") without relying on a parser's settings.
 */

/** 1 MiB: the largest Appendix A alert is under 3 KiB; signed alerts with embedded images stay well below this. */
export const CAP_MAX_BYTES = 1024 * 1024;

const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

/**
 * Throws a CapError when `input` is too large, has a NUL byte, or declares a DOCTYPE or ENTITY. Byte input is read
 * as Latin-1 for the check: every encoding without NUL bytes that XML parsers accept here is ASCII-compatible, so
 * `<!DOCTYPE` has the same bytes in all of them.
 */
export function guardCapInput(input: string | Uint8Array): void {
  // A string longer than the limit in UTF-16 units is longer in UTF-8 bytes too, so it is not encoded to be measured.
  const longString = typeof input === 'string' && input.length > CAP_MAX_BYTES;
  const bytes = typeof input === 'string' ? (longString ? input.length : Buffer.byteLength(input, 'utf8')) : input.byteLength;
  if (bytes > CAP_MAX_BYTES) {
    const message = `the document has ${longString ? 'at least ' : ''}${bytes} bytes; the limit is ${CAP_MAX_BYTES} bytes (1 MiB)`;
    throw new CapError('too-large', [{ message }], `CAP document refused: ${message}`);
  }
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    const message = 'it contains a NUL byte: expected UTF-8 text (UTF-16 and UTF-32 are not read)';
    throw new CapError('encoding', [{ line: lineAt(text, nul), message }], `CAP document refused at line ${lineAt(text, nul)}: ${message}`);
  }
  const declaration = DECLARATION.exec(text);
  if (declaration) {
    const line = lineAt(text, declaration.index);
    const message = `it declares ${declaration[1].toUpperCase() === 'DOCTYPE' ? 'a DOCTYPE' : 'an ENTITY'}; CAP 1.2 alerts have none, and Glimpser refuses them rather than resolve or expand entities`;
    throw new CapError('doctype', [{ line, message }], `CAP document refused at line ${line}: ${message}`);
  }
}
