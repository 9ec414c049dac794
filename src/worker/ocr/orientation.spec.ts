import type { Line } from '../../contract/results';
import { Degrees, OrientationGuess, readUpright } from './orientation';

/** A page of words `confidence` sure, across the page or (sideways) down it. */
const page = (confidence: number, sideways = false): Line[] => {
  const bbox = sideways ? { x0: 0, y0: 0, x1: 10, y1: 60 } : { x0: 0, y0: 0, x1: 60, y1: 10 };
  return [{ text: 'words here', confidence, bbox, words: ['words', 'here'].map((text) => ({ text, confidence, bbox })) }];
};

/** A reader whose reads by turn and whose OSD answer are given; it records what was asked. */
function reader(reads: Partial<Record<Degrees, Line[]>>, guess: OrientationGuess | null) {
  const asked: string[] = [];
  return {
    asked,
    read: async (degrees: Degrees) => {
      asked.push(`read ${degrees}`);
      return reads[degrees] ?? [];
    },
    detect: async () => {
      asked.push('detect');
      return guess;
    },
  };
}

describe('readUpright', () => {
  it('keeps a confident read without asking OSD', async () => {
    const r = reader({ 0: page(90) }, { degrees: 180, confidence: 20 });
    expect(await readUpright(r, true)).toMatchObject({ rotation: 0, rotationMethod: 'confident-read', confidence: 90 });
    expect(r.asked).toEqual(['read 0']);
  });

  it('keeps a poor read upright when OSD is unsure, however much better the page reads turned', async () => {
    const r = reader({ 0: page(50), 180: page(95) }, { degrees: 180, confidence: 2 });
    expect(await readUpright(r, true)).toMatchObject({ rotation: 0, rotationMethod: 'osd-upright', confidence: 50 });
    expect(r.asked).toEqual(['read 0', 'detect']);
  });

  it('keeps the page upright when OSD is sure but the turned read is not clearly better', async () => {
    const r = reader({ 0: page(60), 180: page(65) }, { degrees: 180, confidence: 12 });
    const read = await readUpright(r, true);
    expect(read).toMatchObject({ rotation: 0, rotationMethod: 'osd-unconfirmed', confidence: 60 });
    expect(read.evidence).toEqual({ uprightConfidence: 60, guess: { degrees: 180, confidence: 12 }, turnedConfidence: 65 });
  });

  it('turns the page when OSD is sure and the turned read is clearly better', async () => {
    const r = reader({ 0: page(40), 90: page(92) }, { degrees: 90, confidence: 11 });
    expect(await readUpright(r, true)).toMatchObject({ rotation: 90, rotationMethod: 'osd', confidence: 92 });
    expect(r.asked).toEqual(['read 0', 'detect', 'read 90']);
  });

  it('turns a sideways page Tesseract read well on its own when the turned read is as good', async () => {
    const r = reader({ 0: page(95, true), 270: page(94) }, { degrees: 270, confidence: 9 });
    expect(await readUpright(r, true)).toMatchObject({ rotation: 270, rotationMethod: 'osd', confidence: 94 });
  });

  it('reads without OSD when orientation detection is off', async () => {
    const r = reader({ 0: page(30) }, { degrees: 180, confidence: 20 });
    expect(await readUpright(r, false)).toMatchObject({ rotation: 0, rotationMethod: 'disabled' });
    expect(r.asked).toEqual(['read 0']);
  });
});
