import { Box, Line, Word, round, unionBox } from '../../contract/results';

/** The parts of a pdf.js TextItem this module reads. */
export interface TextItemLike {
  str: string;
  /** Text matrix already mapped to viewport space (top-left origin, points). */
  transform: number[];
  width: number;
  height: number;
  hasEOL?: boolean;
}

/**
 * Whether a page's text layer can be trusted instead of OCR. Fonts without a Unicode
 * mapping extract as control characters, U+FFFD or private-use code points; a layer
 * made of those, or of almost nothing, is treated as absent.
 */
export function isUsableTextLayer(text: string): boolean {
  const chars = [...text.replace(/\s+/g, '')];
  if (chars.length < 3) return false;
  const bad = chars.filter((c) => /[\p{Cc}\p{Co}\p{Cs}\uFFFD]/u.test(c)).length;
  const wordy = chars.filter((c) => /[\p{L}\p{N}]/u.test(c)).length;
  return bad / chars.length < 0.1 && wordy / chars.length > 0.5;
}

/**
 * Turns text items into lines of words with boxes. Word positions inside an item are
 * interpolated by character count: pdf.js gives one advance width per item, not per glyph.
 */
export function linesFromTextItems(items: TextItemLike[]): Line[] {
  const lines: Omit<Line, 'block' | 'paragraph'>[] = [];
  let current: Word[] = [];
  let baseline: number | null = null;

  const flush = () => {
    if (current.length) lines.push(makeLine(current));
    current = [];
    baseline = null;
  };

  for (const item of items) {
    const [, , c, d, e, f] = item.transform;
    const fontHeight = Math.hypot(c, d) || item.height;
    if (baseline !== null && Math.abs(f - baseline) > fontHeight * 0.5) flush();
    if (item.str.trim()) {
      baseline ??= f;
      const perChar = item.str.length ? item.width / item.str.length : 0;
      const top = f - fontHeight * 0.8;
      const bottom = f + fontHeight * 0.2;
      for (const match of item.str.matchAll(/\S+/g)) {
        const start = e + perChar * match.index;
        current.push({
          text: match[0],
          confidence: null,
          bbox: box(start, top, start + perChar * match[0].length, bottom),
        });
      }
    }
    if (item.hasEOL) flush();
  }
  flush();
  return withLayout(lines);
}

/**
 * A text layer names no blocks or paragraphs: a line wholly above the one before it (the
 * next column) starts a block, and one further below it than about a line's height
 * (a blank line's worth) a paragraph.
 */
function withLayout(lines: Omit<Line, 'block' | 'paragraph'>[]): Line[] {
  let block = 1;
  let paragraph = 1;
  return lines.map((line, i) => {
    const previous = lines[i - 1]?.bbox;
    if (previous) {
      const height = Math.max(previous.y1 - previous.y0, line.bbox.y1 - line.bbox.y0);
      const above = line.bbox.y1 <= previous.y0;
      if (above) block += 1;
      if (above || line.bbox.y0 - previous.y1 > height * 0.8) paragraph += 1;
    }
    return { ...line, block, paragraph };
  });
}

function makeLine(words: Word[]): Omit<Line, 'block' | 'paragraph'> {
  return { text: words.map((w) => w.text).join(' '), confidence: null, bbox: unionBox(words.map((w) => w.bbox)), words };
}

function box(x0: number, y0: number, x1: number, y1: number): Box {
  return { x0: round(Math.min(x0, x1)), y0: round(Math.min(y0, y1)), x1: round(Math.max(x0, x1)), y1: round(Math.max(y0, y1)) };
}
