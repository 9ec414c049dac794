import { DEFAULT_IMAGE_WIDTH, IMAGE_WIDTHS, MAX_IMAGE_WIDTH, servedImageWidth } from './queues';

describe('servedImageWidth', () => {
  it('serves a width at the smallest fixed width that covers it', () => {
    expect([1, 256, 257, 600, 1000, 1024, 1025, 1999, 2000].map(servedImageWidth)).toEqual([
      256, 256, 512, 1024, 1024, 1024, 2000, 2000, 2000,
    ]);
  });

  it('has at most the fixed widths, whatever is asked for', () => {
    const served = new Set(Array.from({ length: MAX_IMAGE_WIDTH }, (_, i) => servedImageWidth(i + 1)));
    expect([...served]).toEqual([...IMAGE_WIDTHS]);
    expect(IMAGE_WIDTHS).toContain(DEFAULT_IMAGE_WIDTH);
  });
});
