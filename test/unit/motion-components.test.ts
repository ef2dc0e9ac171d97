import { RegionLabeller } from '../../core/motion/components';
import { dilate3 } from '../../core/motion/filters';

/** A bitmap from rows of '#' and '.'. */
function bitmap(rows: string[]): { data: Uint8Array; width: number; height: number } {
  const width = rows[0].length;
  return { data: Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0)), width, height: rows.length };
}

function regions(rows: string[], minArea = 1): { area: number; box: [number, number, number, number] }[] {
  const { data, width, height } = bitmap(rows);
  const diff = data.map((v) => v * 100);
  return new RegionLabeller(width, height).find(data, data, diff, minArea).map((r) => ({ area: r.area, box: [r.minX, r.minY, r.maxX, r.maxY] }));
}

describe('connected regions', () => {
  test('separate blobs are separate regions, largest first, with their bounds', () => {
    expect(regions(['##.....', '##...#.', '.....##', '.....##'])).toEqual([
      { area: 5, box: [5, 1, 6, 3] },
      { area: 4, box: [0, 0, 1, 1] },
    ]);
  });

  test('pixels touching at a corner belong together (8-connected)', () => {
    expect(regions(['#...', '.#..', '..#.', '...#'])).toEqual([{ area: 4, box: [0, 0, 3, 3] }]);
  });

  test('a U whose arms were labelled apart is merged where its bottom joins them, and so is a hook', () => {
    expect(regions(['#...#.#', '#...#.#', '#####.#', '......#', '######.'])).toEqual([
      { area: 10, box: [0, 0, 6, 4] },
      { area: 9, box: [0, 0, 4, 2] },
    ]);
  });

  test('regions smaller than minArea are left out', () => {
    expect(regions(['#....', '...##', '...##'], 2)).toEqual([{ area: 4, box: [3, 1, 4, 2] }]);
  });

  test('area and bounds come from the changed pixels, the joined (dilated) ones only connect them', () => {
    const changed = bitmap(['#...#', '.....', '.....']);
    const joined = new Uint8Array(changed.data.length);
    dilate3(changed.data, joined, new Uint8Array(changed.data.length), changed.width, changed.height);
    const found = new RegionLabeller(5, 3).find(joined, changed.data, changed.data, 1);
    expect(found.map((r) => [r.area, r.minX, r.maxX])).toEqual([
      [1, 0, 0],
      [1, 4, 4],
    ]);
    const close = bitmap(['#.#..', '.....', '.....']);
    dilate3(close.data, joined, new Uint8Array(close.data.length), 5, 3);
    expect(new RegionLabeller(5, 3).find(joined, close.data, close.data, 1).map((r) => [r.area, r.minX, r.maxX])).toEqual([[2, 0, 2]]);
  });

  test('isolated pixels are a region each', () => {
    const rows = Array.from({ length: 9 }, (_, y) => Array.from({ length: 9 }, (_, x) => ((x + y) % 2 === 0 && y % 2 === 0 ? '#' : '.')).join(''));
    expect(regions(rows)).toHaveLength(25);
  });
});

describe('dilation', () => {
  test('grows every set pixel by one in all eight directions, edges included, and counts the result', () => {
    const { data, width, height } = bitmap(['#....', '.....', '....#']);
    const out = new Uint8Array(data.length);
    expect(dilate3(data, out, new Uint8Array(data.length), width, height)).toBe(8);
    expect([...out].join('')).toBe('110001101100011');
  });
});
