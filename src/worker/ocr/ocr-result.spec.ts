import { linesFromBlocks, pageConfidence } from './ocr-result';

describe('linesFromBlocks', () => {
  const word = (text: string, confidence: number, x0: number) => ({ text, confidence, bbox: { x0, y0: 300, x1: x0 + 150, y1: 350 } });

  it('converts pixel boxes to points and drops empty words and lines', () => {
    const blocks = [
      {
        paragraphs: [
          {
            lines: [
              {
                text: 'Hi there',
                confidence: 90,
                bbox: { x0: 0, y0: 300, x1: 450, y1: 350 },
                words: [word('Hi', 95, 0), word(' ', 10, 160), word('there', 85, 300)],
              },
              { text: ' ', confidence: 0, bbox: { x0: 0, y0: 400, x1: 10, y1: 410 }, words: [word(' ', 0, 0)] },
            ],
          },
        ],
      },
    ];
    const lines = linesFromBlocks(blocks, 300 / 72);
    expect(lines).toHaveLength(1);
    expect(lines[0].text).toBe('Hi there');
    expect(lines[0].words[1]).toEqual({ text: 'there', confidence: 85, bbox: { x0: 72, y0: 72, x1: 108, y1: 84 } });
    expect(pageConfidence(lines)).toBeCloseTo((95 * 2 + 85 * 5) / 7, 1);
  });

  it('maps boxes read from an image turned by 180 degrees back onto the page', () => {
    const blocks = [
      { paragraphs: [{ lines: [{ text: 'Hi', confidence: 90, bbox: { x0: 0, y0: 0, x1: 150, y1: 50 }, words: [word('Hi', 90, 0)] }] }] },
    ];
    const [line] = linesFromBlocks(blocks, 1, { width: 1000, height: 500 });
    expect(line.words[0].bbox).toEqual({ x0: 850, y0: 150, x1: 1000, y1: 200 });
    expect(line.bbox).toEqual({ x0: 850, y0: 450, x1: 1000, y1: 500 });
  });

  it('has no confidence for a page without words', () => {
    expect(linesFromBlocks(null, 1)).toEqual([]);
    expect(pageConfidence([])).toBeNull();
  });
});
