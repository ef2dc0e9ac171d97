import type { Request } from 'express';
import { mayUseCamera } from '../auth/roles';
import { badRequest, notFound, type HttpError } from './errors';
import { principalOf } from './route';

/**
 * Per-user camera lists (Principal.cameras) applied to the API. A camera outside the caller's list answers exactly
 * as a camera that does not exist, so its existence does not leak.
 *
 * Listings: the journal and the alert outbox filter by one camera, so a caller limited to several cameras names one
 * with `?camera=` (400 naming `camera` otherwise; with a single allowed camera it is filled in). Filtering a page in
 * memory instead would give short or empty pages with a `next` cursor, which clients take for the end of the list.
 */
export function unknownCamera(id: string): HttpError {
  return notFound(`camera "${id}" is not configured: no deployed glimpser-camera node has that id`);
}

/** Whether the caller may see this camera (always true for a caller without a list). */
export function visible(req: Request, camera: string): boolean {
  return mayUseCamera(principalOf(req), camera);
}

/** Throws `notFound` (worded by the route, as for an unknown camera) unless the caller may see this camera. */
export function requireVisible(req: Request, camera: string, notFoundError: HttpError = unknownCamera(camera)): void {
  if (!visible(req, camera)) throw notFoundError;
}

/**
 * The camera filter of a listing for this caller: the requested one, the single camera it may see, or `hidden` when
 * it asked for a camera outside its list (answered as an empty page, as for a camera with nothing stored).
 */
export function listCamera(req: Request, requested: string | undefined): { camera: string | undefined } | 'hidden' {
  const { cameras } = principalOf(req);
  if (cameras === null) return { camera: requested };
  if (requested !== undefined) return cameras.includes(requested) ? { camera: requested } : 'hidden';
  if (cameras.length === 0) return 'hidden';
  if (cameras.length === 1) return { camera: cameras[0] };
  throw badRequest(`camera: this account sees only some cameras, so a listing needs ?camera=<id>, one of ${cameras.join(', ')}`);
}
