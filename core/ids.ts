/**
 * Ids that appear in MQTT topics, URLs and file names (camera ids, zone names) are kept to one safe alphabet,
 * written once here: no "/", "+", "#" or "." to escape a topic level or a folder, nothing a URL must encode.
 */

/** One id without anchors, for patterns that contain one (a snapshot's `<camera>/<day>/<id>.jpg`). */
export const ID_CHARS = '[a-z0-9][a-z0-9_-]{0,63}';
export const ID_PATTERN_SOURCE = `^${ID_CHARS}$`;
export const CAMERA_ID_PATTERN = new RegExp(ID_PATTERN_SOURCE);
/** Zone names end up in MQTT topics and event payloads, so they keep to the camera id alphabet. */
export const ZONE_NAME_PATTERN = new RegExp(ID_PATTERN_SOURCE);
export const ID_EXPECTED = '1-64 characters of a-z, 0-9, "_" or "-", starting with a letter or digit';
export const CAMERA_ID_EXPECTED = `a camera id: ${ID_EXPECTED}`;
export const ZONE_NAME_EXPECTED = `a zone name: ${ID_EXPECTED}`;

export function assertCameraId(id: unknown): string {
  if (typeof id !== 'string' || !CAMERA_ID_PATTERN.test(id)) {
    throw new Error(`camera id ${JSON.stringify(id)} is invalid: expected ${ID_EXPECTED}`);
  }
  return id;
}
