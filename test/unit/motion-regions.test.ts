import { checkRegions, fillPolygons, RegionMaps, type Polygon } from '../../core/motion/regions';

/** A bitmap as rows of '#' (set) and '.' (clear), for readable expectations. */
function picture(bitmap: Uint8Array, width: number): string[] {
  const rows: string[] = [];
  for (let at = 0; at < bitmap.length; at += width) rows.push([...bitmap.subarray(at, at + width)].map((v) => (v ? '#' : '.')).join(''));
  return rows;
}

describe('checking masks and zones', () => {
  const square: Polygon = [
    [0, 0],
    [0.5, 0],
    [0.5, 0.5],
    [0, 0.5],
  ];

  test('accepts polygons of at least three points inside 0..1, edges included', () => {
    expect(
      checkRegions({
        masks: [
          square,
          [
            [0, 0],
            [1, 1],
            [0, 1],
          ],
        ],
        zones: [{ name: 'drive_way-2', points: square }],
      }),
    ).toEqual({
      masks: [
        square,
        [
          [0, 0],
          [1, 1],
          [0, 1],
        ],
      ],
      zones: [{ name: 'drive_way-2', points: square }],
    });
    expect(checkRegions()).toEqual({ masks: [], zones: [] });
  });

  test('names the polygon and point (counted from 1) and the coordinate outside 0..1', () => {
    expect(() =>
      checkRegions({
        masks: [
          square,
          [
            [0, 0],
            [0.2, 0.1],
            [1.4, 0.5],
          ],
        ],
      }),
    ).toThrow('mask 2 point 3: x=1.4 is outside 0..1');
    expect(() =>
      checkRegions({
        masks: [
          [
            [0, 0],
            [0.2, -0.1],
            [0.4, 0.5],
          ],
        ],
      }),
    ).toThrow('mask 1 point 2: y=-0.1 is outside 0..1');
    expect(() =>
      checkRegions({
        zones: [
          {
            name: 'yard',
            points: [
              [0, 0],
              [0.2, 0.1],
              [0.3, 2],
            ],
          },
        ],
      }),
    ).toThrow('zone "yard" point 3: y=2 is outside 0..1');
    expect(() =>
      checkRegions({
        masks: [
          [
            [0, 0],
            [Number.NaN, 0],
            [1, 1],
          ],
        ],
      }),
    ).toThrow('mask 1 point 2: x=NaN is outside 0..1');
  });

  test('refuses polygons with fewer than three points, and points that are not [x, y]', () => {
    expect(() =>
      checkRegions({
        masks: [
          [
            [0, 0],
            [1, 1],
          ],
        ],
      }),
    ).toThrow('mask 1 has 2 points: expected at least 3');
    const bad = [[0, 0], [0.5, 0.5], { x: 1, y: 0 }] as unknown as Polygon;
    expect(() => checkRegions({ masks: [bad] })).toThrow('mask 1 point 3: expected [x, y] with two numbers, got {"x":1,"y":0}');
    expect(() => checkRegions({ masks: ['0,0,1,1' as unknown as Polygon] })).toThrow('mask 1 is invalid: expected a list of [x, y] points');
  });

  test('zone names keep to a-z, 0-9, "_" and "-", and are unique', () => {
    expect(() => checkRegions({ zones: [{ name: 'Front Door', points: square }] })).toThrow('zone 1 name "Front Door" is invalid');
    expect(() =>
      checkRegions({
        zones: [
          { name: 'a', points: square },
          { name: 'a', points: square },
        ],
      }),
    ).toThrow('zone 2 name "a" is already used by zone 1');
  });
});

describe('rasterising polygons', () => {
  test('fills the pixels whose centres are inside', () => {
    expect(
      picture(
        fillPolygons(
          [
            [
              [0.25, 0.25],
              [0.75, 0.25],
              [0.75, 0.75],
              [0.25, 0.75],
            ],
          ],
          8,
          4,
        ),
        8,
      ),
    ).toEqual(['........', '..####..', '..####..', '........']);
  });

  test('a polygon over the whole picture fills every pixel; one between pixel centres fills none', () => {
    expect(
      fillPolygons(
        [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        ],
        5,
        3,
      ).every((v) => v === 1),
    ).toBe(true);
    expect(
      fillPolygons(
        [
          [
            [0.21, 0.21],
            [0.29, 0.21],
            [0.29, 0.29],
          ],
        ],
        5,
        5,
      ).every((v) => v === 0),
    ).toBe(true);
  });

  test('a triangle is filled row by row between its edges', () => {
    expect(
      picture(
        fillPolygons(
          [
            [
              [0, 0],
              [1, 1],
              [0, 1],
            ],
          ],
          4,
          4,
        ),
        4,
      ),
    ).toEqual(['....', '#...', '##..', '###.']);
  });

  test('a self-crossing outline follows the even-odd rule: the doubly wound middle stays open', () => {
    // A pentagram: its centre is wound twice, so even-odd leaves it out.
    const star: Polygon = [
      [0.5, 0],
      [0.8, 1],
      [0, 0.35],
      [1, 0.35],
      [0.2, 1],
    ];
    const bitmap = fillPolygons([star], 21, 21);
    expect(bitmap[10 * 21 + 10]).toBe(0);
    expect(bitmap[4 * 21 + 10]).toBe(1);
  });

  test('several masks are united, not toggled, where they overlap', () => {
    const left: Polygon = [
      [0, 0],
      [0.75, 0],
      [0.75, 1],
      [0, 1],
    ];
    const right: Polygon = [
      [0.25, 0],
      [1, 0],
      [1, 1],
      [0.25, 1],
    ];
    expect(picture(fillPolygons([left, right], 4, 1), 4)).toEqual(['####']);
  });
});

describe('region maps for one picture size', () => {
  test('count unmasked pixels and tell whether a box touches a zone', () => {
    const maps = new RegionMaps(
      checkRegions({
        masks: [
          [
            [0, 0],
            [0.5, 0],
            [0.5, 0.5],
            [0, 0.5],
          ],
        ],
        zones: [
          {
            name: 'corner',
            points: [
              [0.75, 0.75],
              [1, 0.75],
              [1, 1],
              [0.75, 1],
            ],
          },
        ],
      }),
      8,
      8,
    );
    expect(maps.unmasked).toBe(64 - 16);
    const [corner] = maps.zones;
    expect(maps.zonePixelsIn(corner, 0, 0, 7, 7)).toBe(4);
    expect(maps.zonePixelsIn(corner, 5, 5, 6, 6)).toBe(1);
    expect(maps.zonePixelsIn(corner, 0, 0, 5, 7)).toBe(0);
  });

  test('without masks nothing is masked', () => {
    const maps = new RegionMaps(checkRegions({}), 10, 4);
    expect(maps.mask).toBeNull();
    expect(maps.unmasked).toBe(40);
  });
});
