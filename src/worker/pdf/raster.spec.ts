import { engineInput, planRaster, rgbaToPgm, turnGrey } from './raster';

describe('planRaster', () => {
  it('renders a letter page at the requested resolution', () => {
    expect(planRaster(612, 792, 300, 25_000_000, 50)).toEqual({ ok: true, scale: 300 / 72, width: 2550, height: 3300 });
  });

  it('lowers the resolution to stay within the pixel limit', () => {
    const plan = planRaster(2160, 2160, 300, 25_000_000, 50);
    expect(plan.ok && plan.width * plan.height).toBeLessThanOrEqual(25_000_000);
    expect(plan.ok && plan.scale * 72).toBeCloseTo(166.7, 0);
  });

  it('refuses a page that would fall below the minimum resolution', () => {
    expect(planRaster(8400, 8400, 300, 25_000_000, 50)).toEqual({ ok: false, dpi: 42.9 });
  });
});

describe('turnGrey', () => {
  // 3 x 2 pixels:  1 2 3
  //                4 5 6
  const image = { pgm: Buffer.concat([Buffer.from('P5\n3 2\n255\n'), Buffer.from([1, 2, 3, 4, 5, 6])]), width: 3, height: 2 };
  const pixels = (pgm: Buffer) => [...pgm.subarray(pgm.length - 6)];

  it.each([
    [90, 'P5\n2 3\n255\n', [4, 1, 5, 2, 6, 3]],
    [180, 'P5\n3 2\n255\n', [6, 5, 4, 3, 2, 1]],
    [270, 'P5\n2 3\n255\n', [3, 6, 2, 5, 1, 4]],
  ] as const)('turns the pixels clockwise by %i degrees and writes the new size', (degrees, header, expected) => {
    const turned = turnGrey(image, degrees);
    expect(turned.pgm.subarray(0, header.length).toString('ascii')).toBe(header);
    expect(pixels(turned.pgm)).toEqual(expected);
    expect([turned.width, turned.height]).toEqual(degrees === 180 ? [3, 2] : [2, 3]);
    expect(pixels(image.pgm)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('rgbaToPgm', () => {
  it('writes a P5 header and one luma byte per pixel', () => {
    const rgba = new Uint8Array([255, 255, 255, 255, 0, 0, 0, 255, 255, 0, 0, 255]);
    const pgm = rgbaToPgm(rgba, 3, 1);
    expect(pgm.subarray(0, 11).toString('ascii')).toBe('P5\n3 1\n255\n');
    expect([...pgm.subarray(11)]).toEqual([255, 0, 76]);
  });
});

describe('engineInput', () => {
  const grey = (pixels: number[], width: number, bilevel: boolean) => {
    const header = Buffer.from(`P5\n${width} ${pixels.length / width}\n255\n`, 'ascii');
    return { pgm: Buffer.concat([header, Buffer.from(pixels)]), width, height: pixels.length / width, bilevel };
  };

  it('packs a black and white image into a 1-bit PBM, a set bit black, rows padded to a byte', () => {
    // 10 x 2: row 1 black at x 0 and 9, row 2 black at x 1 to 8.
    const row1 = [0, 255, 255, 255, 255, 255, 255, 255, 255, 0];
    const row2 = [255, 0, 0, 0, 0, 0, 0, 0, 0, 255];
    const pbm = engineInput(grey([...row1, ...row2], 10, true));
    const header = Buffer.from('P4\n10 2\n', 'ascii');
    expect(pbm.subarray(0, header.length)).toEqual(header);
    expect([...pbm.subarray(header.length)]).toEqual([0b10000000, 0b01000000, 0b01111111, 0b10000000]);
  });

  it('gives a grey image as its PGM, and keeps an image black and white when turned', () => {
    const image = grey([0, 128, 255, 0], 2, false);
    expect(engineInput(image)).toBe(image.pgm);
    expect(turnGrey(grey([0, 255, 255, 0], 2, true), 90).bilevel).toBe(true);
  });
});
