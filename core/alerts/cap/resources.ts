import { createHash } from 'node:crypto';
import type { CapResource } from './model';

/** CAP 1.2 §3.2.3: `<digest>` is the SHA-1 (FIPS 180-2) of the resource file, written here as 40 lowercase hex digits. */
export function capResourceDigest(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

export interface ResourceInput {
  /** `<resourceDesc>`, e.g. "Snapshot of the driveway camera". */
  description: string;
  /** `<mimeType>` (RFC 2046), e.g. "image/jpeg". */
  mimeType: string;
  /** The resource file itself: gives `<size>` and `<digest>`. */
  bytes: Uint8Array;
  /** `<uri>`, where the file can be fetched; an absolute URI. */
  uri?: string;
  /** Carry the file inside the alert as base64 `<derefUri>` (CAP 1.2 §3.2.3: only where no network is at hand). */
  embed?: boolean;
}

/** A `<resource>` block with the size and SHA-1 digest of `bytes` (CAP 1.2 §3.2.3), in the XSD's element order. */
export function resourceFor(input: ResourceInput): CapResource {
  if (!/^[\w.+-]+\/[\w.+-]+/.test(input.mimeType))
    throw new Error(`resource mimeType: expected a MIME type such as "image/jpeg", got ${JSON.stringify(input.mimeType)}`);
  return {
    resourceDesc: input.description,
    mimeType: input.mimeType,
    size: input.bytes.byteLength,
    ...(input.uri === undefined ? {} : { uri: input.uri }),
    ...(input.embed ? { derefUri: Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength).toString('base64') } : {}),
    digest: capResourceDigest(input.bytes),
  };
}
