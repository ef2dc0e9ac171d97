/**
 * Ids that appear in MQTT topics, URLs and file names (camera ids, zone names) are kept to one safe alphabet,
 * written once here.
 */
export const ID_PATTERN_SOURCE = '^[a-z0-9][a-z0-9_-]{0,63}$';
export const CAMERA_ID_PATTERN = new RegExp(ID_PATTERN_SOURCE);
export const ZONE_NAME_PATTERN = new RegExp(ID_PATTERN_SOURCE);
export const ID_EXPECTED = '1-64 characters of a-z, 0-9, "_" or "-", starting with a letter or digit';

export function assertCameraId(id: unknown): string {
  if (typeof id !== 'string' || !CAMERA_ID_PATTERN.test(id)) {
    throw new Error(`camera id ${JSON.stringify(id)} is invalid: expected ${ID_EXPECTED}`);
  }
  return id;
}
