import { Box, textOf } from '../../contract/results';
import { isSideways, linesFromBlocks, pageConfidence, readBlocks, readingOrder, TessBlock } from './ocr-result';

const word = (text: string, confidence: number, x0: number) => ({ text, confidence, bbox: { x0, y0: 300, x1: x0 + 150, y1: 350 } });
const block = (text: string, bbox: Box): TessBlock => ({
  bbox,
  paragraphs: [{ lines: [{ text, confidence: 90, bbox, words: [{ text, confidence: 90, bbox }] }] }],
});
const box = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });

describe('linesFromBlocks', () => {
  it('converts pixel boxes to points and drops empty words and lines', () => {
    const blocks = [
      {
        bbox: box(0, 300, 450, 410),
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

  // A 1000 x 500 page image with a word at its top-left corner (0,0)-(150,50), read turned.
  // Where Tesseract sees it in the turned image: turned 90 clockwise, at the top-right corner of a 500 x 1000 image.
  it.each([180, 90, 270] as const)('maps boxes read from the image turned by %i degrees back onto the page', (degrees) => {
    const expected = box(0, 0, 150, 50);
    const seen = {
      180: box(850, 450, 1000, 500),
      90: box(450, 0, 500, 150),
      270: box(0, 850, 50, 1000),
    }[degrees];
    const [line] = linesFromBlocks([block('Hi', seen)], 1, { degrees, width: 1000, height: 500 });
    expect(line.words[0].bbox).toEqual(expected);
    expect(line.bbox).toEqual(expected);
  });

  it('numbers blocks and paragraphs on the page as they are kept, in reading order', () => {
    const line = (text: string, y0: number, confidence = 90) => ({
      text,
      confidence,
      bbox: box(0, y0, 100, y0 + 20),
      words: [{ text, confidence, bbox: box(0, y0, 100, y0 + 20) }],
    });
    const blocks: TessBlock[] = [
      { bbox: box(0, 0, 100, 60), paragraphs: [{ lines: [line('one', 0), line('two', 30)] }, { lines: [line('three', 60)] }] },
      // Noise alone: neither its block nor its paragraph takes a number.
      { bbox: box(0, 100, 100, 120), paragraphs: [{ lines: [line('~', 100, 10)] }] },
      { bbox: box(0, 200, 100, 220), paragraphs: [{ lines: [line('four', 200)] }] },
    ];
    const lines = linesFromBlocks(blocks, 1);
    expect(lines.map((l) => [l.text, l.block, l.paragraph])).toEqual([
      ['one', 1, 1],
      ['two', 1, 1],
      ['three', 1, 2],
      ['four', 2, 3],
    ]);
    expect(textOf(lines)).toBe('one\ntwo\n\nthree\n\nfour');
  });

  it('has no confidence for a page without words', () => {
    expect(linesFromBlocks(null, 1)).toEqual([]);
    expect(pageConfidence([])).toBeNull();
  });
});

describe('readingOrder', () => {
  const text = (blocks: TessBlock[]) => readingOrder(blocks).map((b) => b.paragraphs[0].lines[0].text);

  it('puts a header above a table first, whatever order Tesseract gave them in', () => {
    const table = block('table', box(40, 530, 770, 1390));
    const noise = block('noise', box(48, 1080, 73, 1190));
    const header = block('header', box(107, 197, 696, 511));
    const footer = block('footer', box(354, 1424, 754, 1449));
    expect(text([noise, table, header, footer])).toEqual(['header', 'table', 'noise', 'footer']);
  });

  it('reads columns left to right, each top to bottom, between a title and a footer', () => {
    const title = block('title', box(0, 0, 1000, 50));
    const left1 = block('left1', box(0, 100, 480, 400));
    const left2 = block('left2', box(0, 450, 480, 900));
    const right1 = block('right1', box(520, 100, 1000, 600));
    const right2 = block('right2', box(520, 650, 1000, 900));
    const footer = block('footer', box(0, 950, 1000, 1000));
    expect(text([right2, footer, right1, left2, title, left1])).toEqual(['title', 'left1', 'left2', 'right1', 'right2', 'footer']);
  });

  it('ends a pair of columns at a block spanning both', () => {
    const topLeft = block('top-left', box(0, 0, 480, 300));
    const topRight = block('top-right', box(520, 0, 1000, 300));
    const figure = block('figure', box(0, 350, 1000, 450));
    const bottomLeft = block('bottom-left', box(0, 500, 480, 900));
    const bottomRight = block('bottom-right', box(520, 500, 1000, 900));
    expect(text([bottomRight, figure, bottomLeft, topRight, topLeft])).toEqual([
      'top-left',
      'top-right',
      'figure',
      'bottom-left',
      'bottom-right',
    ]);
  });
});

describe('isSideways', () => {
  it('tells text running down the page from text across it', () => {
    const across = linesFromBlocks([block('across', box(0, 0, 300, 40))], 1);
    const down = linesFromBlocks([block('down', box(0, 0, 40, 300)), block('and', box(50, 0, 90, 200))], 1);
    expect(isSideways(across)).toBe(false);
    expect(isSideways(down)).toBe(true);
    expect(isSideways([])).toBe(false);
  });
});

describe('noise', () => {
  const line = (words: [string, number][], y: number) => ({
    text: words.map(([t]) => t).join(' '),
    confidence: 50,
    bbox: box(0, y, 500, y + 40),
    words: words.map(([text, confidence], i) => ({ text, confidence, bbox: box(i * 100, y, i * 100 + 90, y + 40) })),
  });

  it('drops lines Tesseract doubts throughout and doubtful specks without a letter or digit', () => {
    const blocks = [
      {
        bbox: box(0, 0, 500, 200),
        paragraphs: [
          {
            lines: [
              line(
                [
                  ['—_—', 10],
                  [']2]', 30],
                ],
                0,
              ),
              line(
                [
                  ['TOTAL', 90],
                  ['—', 20],
                  ['o', 30],
                  ['4.00', 88],
                ],
                50,
              ),
              line(
                [
                  ['Thank', 35],
                  ['you', 38],
                ],
                100,
              ),
            ],
          },
        ],
      },
    ];
    expect(linesFromBlocks(blocks, 1).map((l) => l.text)).toEqual(['TOTAL o 4.00']);
  });

  it('says how many words it dropped', () => {
    const blocks = [
      {
        bbox: box(0, 0, 500, 100),
        paragraphs: [
          {
            lines: [
              line(
                [
                  ['TOTAL', 90],
                  ['4.00', 88],
                ],
                0,
              ),
              line(
                [
                  ['—_—', 10],
                  [']2]', 30],
                ],
                50,
              ),
            ],
          },
        ],
      },
    ];
    expect(readBlocks(blocks, 1)).toMatchObject({ noiseFilter: { droppedWords: 2, overruled: false } });
  });

  it('is overruled, and drops nothing, when it would take most of the page with it', () => {
    // A faint page: Tesseract doubts nearly every line it read, though they are the page's text.
    const doubted = ['RESTORAN WAN SHENG', 'No.2 Jalan Temenggung', 'Seksyen 9 Bandar Mahkota', 'Tax Invoice'];
    const blocks = [
      {
        bbox: box(0, 0, 500, 250),
        paragraphs: [
          {
            lines: [
              line(
                [
                  ['TOTAL', 90],
                  ['4.80', 88],
                ],
                0,
              ),
              ...doubted.map((text, i) =>
                line(
                  text.split(' ').map((w): [string, number] => [w, 35]),
                  50 * (i + 1),
                ),
              ),
            ],
          },
        ],
      },
    ];
    const read = readBlocks(blocks, 1);
    expect(read.noiseFilter).toEqual({ droppedWords: 0, overruled: true });
    expect(read.lines.map((l) => l.text)).toEqual(['TOTAL 4.80', ...doubted]);
  });
});
