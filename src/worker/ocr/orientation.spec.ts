import type { Line } from '../../contract/results';
import { Degrees, OrientationGuess, readUpright } from './orientation';

/** A line of two words `confidence` sure, across the page, or running down or up it. */
const page = (confidence: number, runs: 'across' | 'down' | 'up' = 'across'): Line[] => {
  const boxes = {
    across: [
      { x0: 0, y0: 0, x1: 60, y1: 10 },
      { x0: 70, y0: 0, x1: 130, y1: 10 },
    ],
    down: [
      { x0: 0, y0: 0, x1: 10, y1: 60 },
      { x0: 0, y0: 70, x1: 10, y1: 130 },
    ],
    up: [
      { x0: 0, y0: 70, x1: 10, y1: 130 },
      { x0: 0, y0: 0, x1: 10, y1: 60 },
    ],
  }[runs];
  const words = ['words', 'here'].map((text, i) => ({ text, confidence, bbox: boxes[i] }));
  return [{ text: 'words here', confidence, bbox: boxes[0], block: 1, paragraph: 1, words }];
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

  it('keeps a poor read upright when OSD finds it upright', async () => {
    const r = reader({ 0: page(50), 180: page(95) }, { degrees: 0, confidence: 12 });
    expect(await readUpright(r, true)).toMatchObject({ rotation: 0, rotationMethod: 'osd-upright', confidence: 50 });
    expect(r.asked).toEqual(['read 0', 'detect']);
  });

  it('keeps a poor read upright when OSD is unsure and the turned read is only somewhat better', async () => {
    const r = reader({ 0: page(50), 180: page(69) }, { degrees: 180, confidence: 2 });
    expect(await readUpright(r, true)).toMatchObject({ rotation: 0, rotationMethod: 'osd-unconfirmed', confidence: 50 });
  });

  it('turns a short page OSD is unsure of when the turned read is much better and confident', async () => {
    const r = reader({ 0: page(36), 180: page(96) }, { degrees: 180, confidence: 3 });
    expect(await readUpright(r, true)).toMatchObject({ rotation: 180, rotationMethod: 'osd', confidence: 96 });
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

  it('takes the turn of a page Tesseract read well sideways from the way its lines run', async () => {
    const down = reader({ 0: page(95, 'down') }, null);
    expect(await readUpright(down, true)).toMatchObject({ rotation: 270, rotationMethod: 'sideways-read', confidence: 95 });
    expect(down.asked).toEqual(['read 0']);
    expect(await readUpright(reader({ 0: page(95, 'up') }, null), true)).toMatchObject({ rotation: 90, rotationMethod: 'sideways-read' });
  });

  it('reads without OSD when orientation detection is off', async () => {
    const r = reader({ 0: page(30) }, { degrees: 180, confidence: 20 });
    expect(await readUpright(r, false)).toMatchObject({ rotation: 0, rotationMethod: 'disabled' });
    expect(r.asked).toEqual(['read 0']);
  });
});
