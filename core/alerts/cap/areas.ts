/**
 * CAP 1.2 §3.2.4 area shapes as their element text. Points are [latitude, longitude] in WGS 84 degrees; numbers keep
 * at most 6 decimals (about 0.1 m), which also keeps them out of exponent notation.
 */

export type LatLon = readonly [latitude: number, longitude: number];

function degrees(value: number, limit: number, what: string): string {
  if (!Number.isFinite(value) || Math.abs(value) > limit) throw new RangeError(`${what}: expected degrees from -${limit} to ${limit}, got ${value}`);
  return String(Number(value.toFixed(6)));
}

function pair([latitude, longitude]: LatLon, what: string): string {
  return `${degrees(latitude, 90, `${what} latitude`)},${degrees(longitude, 180, `${what} longitude`)}`;
}

/**
 * `<polygon>` text: whitespace-separated "lat,lon" pairs with the ring closed (the first pair repeated last unless it
 * already is), so at least 4 pairs as §3.2.4 requires; three distinct corners are the least a polygon has.
 */
export function polygonText(points: readonly LatLon[]): string {
  const pairs = points.map((point, index) => pair(point, `polygon point ${index + 1}`));
  if (pairs.length > 1 && pairs[0] === pairs[pairs.length - 1]) pairs.pop();
  if (new Set(pairs).size < 3) throw new RangeError(`polygon: expected at least 3 distinct corners, got ${new Set(pairs).size}`);
  return [...pairs, pairs[0]].join(' ');
}

/** `<circle>` text: "lat,lon radius" with the radius in kilometres (§3.2.4); 0 is a point. */
export function circleText(centre: LatLon, radiusKm: number): string {
  if (!Number.isFinite(radiusKm) || radiusKm < 0) throw new RangeError(`circle radius: expected kilometres, 0 or more, got ${radiusKm}`);
  return `${pair(centre, 'circle centre')} ${String(Number(radiusKm.toFixed(6)))}`;
}
