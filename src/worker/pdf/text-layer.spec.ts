import { isUsableTextLayer, linesFromTextItems } from './text-layer';

describe('isUsableTextLayer', () => {
  it('accepts ordinary text', () => {
    expect(isUsableTextLayer('Quarterly report for Acme Widgets')).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['whitespace', ' \n\t '],
    ['unmapped glyphs', '\u0001\u0002\u0003\u0004\u0005'],
    ['replacement characters', '\uFFFD\uFFFD\uFFFDab'],
    ['private-use code points', '\uE001\uE002\uE003\uE004'],
    ['punctuation only', '.... ---- ||||'],
  ])('rejects %s', (_what, text) => {
    expect(isUsableTextLayer(text)).toBe(false);
  });
});

describe('linesFromTextItems', () => {
  const item = (str: string, x: number, baseline: number, width: number, hasEOL = false) => ({
    str,
    transform: [12, 0, 0, 12, x, baseline],
    width,
    height: 12,
    hasEOL,
  });

  it('splits items into words with interpolated boxes and breaks lines on EOL and baseline', () => {
    const lines = linesFromTextItems([item('Hello world', 10, 100, 66), item('again', 80, 100, 30, true), item('Next', 10, 120, 24)]);
    expect(lines.map((l) => l.text)).toEqual(['Hello world again', 'Next']);
    expect(lines[0].words[1]).toEqual({ text: 'world', confidence: null, bbox: { x0: 46, y0: 90.4, x1: 76, y1: 102.4 } });
    expect(lines[0].bbox).toEqual({ x0: 10, y0: 90.4, x1: 110, y1: 102.4 });
    expect(lines[1].bbox.y0).toBeGreaterThan(lines[0].bbox.y1);
  });

  it('starts a new line when the baseline moves without an EOL marker', () => {
    expect(linesFromTextItems([item('one', 0, 100, 18), item('two', 0, 140, 18)]).map((l) => l.text)).toEqual(['one', 'two']);
  });

  it('starts a paragraph after a blank line and a block where the text goes back up the page', () => {
    // 12 pt type on 14 pt leading; a blank line; then the top of the next column.
    const items = [item('one', 0, 100, 18), item('two', 0, 114, 18), item('three', 0, 142, 30), item('four', 300, 100, 24)];
    const lines = linesFromTextItems(items);
    expect(lines.map((l) => [l.text, l.block, l.paragraph])).toEqual([
      ['one', 1, 1],
      ['two', 1, 1],
      ['three', 1, 2],
      ['four', 2, 3],
    ]);
  });
});
