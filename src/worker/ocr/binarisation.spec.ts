import type { Line } from '../../contract/results';
import { expectedCharacters, readBinarised, ReadPolicy, Thresholding } from './binarisation';
import type { PageRead } from './ocr-result';

const bbox = { x0: 0, y0: 0, x1: 10, y1: 10 };
const lineOf = (words: [string, number][]): Line => ({
  text: words.map(([t]) => t).join(' '),
  confidence: 0,
  bbox,
  block: 1,
  paragraph: 1,
  words: words.map(([text, confidence]) => ({ text, confidence, bbox })),
});
const pageOf = (...lines: [string, number][][]): PageRead => ({
  lines: lines.map(lineOf),
  noiseFilter: { droppedWords: 0, overruled: false },
});

/** Reads that return the given page per binarisation and remember which were asked for. */
function reader(pages: Record<Thresholding, PageRead>) {
  const asked: Thresholding[] = [];
  return {
    asked,
    read: async (thresholding: Thresholding) => {
      asked.push(thresholding);
      return pages[thresholding];
    },
  };
}

const POLICY: ReadPolicy = { first: 'otsu', second: 'sauvola', secondBelow: 70 };

describe('expectedCharacters', () => {
  it('counts letters and digits by the confidence of their word, and nothing else', () => {
    expect(
      expectedCharacters(
        pageOf(
          [
            ['TOTAL', 100],
            ['4.00', 50],
          ],
          [['—_—', 95]],
        ).lines,
      ),
    ).toBe(5 + 1.5);
    expect(expectedCharacters([])).toBe(0);
  });
});

describe('readBinarised', () => {
  it('keeps a confident first read without reading again', async () => {
    const { asked, read } = reader({ otsu: pageOf([['TOTAL', 90]]), sauvola: pageOf([['TOTAL', 99]]) });
    const chosen = await readBinarised(read, POLICY);
    expect(asked).toEqual(['otsu']);
    expect(chosen.readMethod).toBe('otsu');
  });

  it('reads a poor page again and keeps the read with more expected characters', async () => {
    const faint = pageOf([
      ['*,', 40],
      ['D', 30],
    ]);
    const { asked, read } = reader({
      otsu: pageOf([
        ['RESTORAN', 60],
        ['WAN', 65],
      ]),
      sauvola: faint,
    });
    const chosen = await readBinarised(read, POLICY);
    expect(asked).toEqual(['otsu', 'sauvola']);
    expect(chosen).toMatchObject({ readMethod: 'otsu-over-sauvola', lines: [{ text: 'RESTORAN WAN' }] });

    const again = reader({
      otsu: faint,
      sauvola: pageOf([
        ['RESTORAN', 60],
        ['WAN', 65],
      ]),
    });
    expect(await readBinarised(again.read, POLICY)).toMatchObject({ readMethod: 'sauvola-over-otsu', lines: [{ text: 'RESTORAN WAN' }] });
  });

  it('reads a page that gave nothing again', async () => {
    const { asked, read } = reader({ otsu: pageOf(), sauvola: pageOf([['TOTAL', 80]]) });
    expect((await readBinarised(read, POLICY)).readMethod).toBe('sauvola-over-otsu');
    expect(asked).toEqual(['otsu', 'sauvola']);
  });

  it('keeps the first read on a tie, and reads once when the policy has no second', async () => {
    const same = pageOf([['TOTAL', 50]]);
    expect((await readBinarised(reader({ otsu: same, sauvola: same }).read, POLICY)).readMethod).toBe('otsu-over-sauvola');
    const once = reader({ otsu: pageOf([['x', 10]]), sauvola: pageOf([['TOTAL', 99]]) });
    expect((await readBinarised(once.read, { ...POLICY, second: null })).readMethod).toBe('otsu');
    expect(once.asked).toEqual(['otsu']);
  });
});
