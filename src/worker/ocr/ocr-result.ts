import { Box, Line, NoiseFilter, round } from '../../contract/results';

/** The parts of tesseract.js' block output this module reads. */
interface TessWord {
  text: string;
  confidence: number;
  bbox: Box;
}
interface TessLine {
  text: string;
  confidence: number;
  bbox: Box;
  words: TessWord[];
}
export interface TessBlock {
  bbox: Box;
  paragraphs: { lines: TessLine[] }[];
}

/** How the image Tesseract read was turned from the page: degrees clockwise, and the page image's size. */
export interface Turn {
  degrees: 0 | 90 | 180 | 270;
  width: number;
  height: number;
}

/** A page's lines as read, and what the noise filter did to them. */
export interface PageRead {
  lines: Line[];
  noiseFilter: NoiseFilter;
}

/**
 * Tesseract's pixel boxes to PDF points of the page as displayed: first undoing the turn
 * the image was read with, then dividing by the render scale. Blocks are put in reading
 * order first, in the frame where the text stands upright. Noise is dropped unless that
 * would take most of the page's letters and digits with it (see NOISE_LINE).
 */
export function readBlocks(blocks: TessBlock[] | null, scale: number, turn?: Turn): PageRead {
  const unturn = turn ? unturnBox(turn) : (b: Box) => b;
  const toPt = (box: Box) => {
    const b = unturn(box);
    return { x0: round(b.x0 / scale), y0: round(b.y0 / scale), x1: round(b.x1 / scale), y1: round(b.y1 / scale) };
  };
  const read = (order: TessBlock[], filter: boolean) => {
    const lines: Line[] = [];
    let dropped = 0;
    // Numbered as kept: a block or paragraph of noise alone takes no number.
    let blockNo = 0;
    let paragraphNo = 0;
    for (const block of order) {
      const blockStart = lines.length;
      for (const paragraph of block.paragraphs) {
        const paragraphStart = lines.length;
        for (const line of paragraph.lines) {
          const given = line.words.filter((w) => w.text.trim());
          const kept = filter ? given.filter((w) => !isSpeck(w)) : given;
          const words = kept.map((w) => ({ text: w.text, confidence: round(w.confidence), bbox: toPt(w.bbox) }));
          if (!words.length || (filter && !words.some((w) => w.confidence >= NOISE_LINE))) {
            dropped += given.length;
            continue;
          }
          dropped += given.length - kept.length;
          if (lines.length === blockStart) blockNo += 1;
          if (lines.length === paragraphStart) paragraphNo += 1;
          lines.push({
            text: words.map((w) => w.text).join(' '),
            confidence: round(line.confidence),
            bbox: toPt(line.bbox),
            block: blockNo,
            paragraph: paragraphNo,
            words,
          });
        }
      }
    }
    return { lines, dropped };
  };
  const inOrder = (filter: boolean) => {
    const asGiven = read(blocks ?? [], filter);
    // Text running up or down the image: Tesseract's order follows it; the geometry here would not.
    return isSideways(asGiven.lines) ? asGiven : read(readingOrder(blocks ?? []), filter);
  };
  const filtered = inOrder(true);
  if (!filtered.dropped) return { lines: filtered.lines, noiseFilter: { droppedWords: 0, overruled: false } };
  const all = inOrder(false);
  if (alphanumerics(filtered.lines) < FILTER_KEEPS * alphanumerics(all.lines)) {
    return { lines: all.lines, noiseFilter: { droppedWords: 0, overruled: true } };
  }
  return { lines: filtered.lines, noiseFilter: { droppedWords: filtered.dropped, overruled: false } };
}

export function linesFromBlocks(blocks: TessBlock[] | null, scale: number, turn?: Turn): Line[] {
  return readBlocks(blocks, scale, turn).lines;
}

/** Letters and digits in `text`, of any script: what the page's readings are compared by. */
export const alphanumericCount = (text: string) => text.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
const alphanumerics = (lines: Line[]) => lines.reduce((n, l) => n + alphanumericCount(l.text), 0);

/**
 * Marks, stains and scanner edges come back as lines of symbols Tesseract itself doubts. A
 * line none of whose words reaches NOISE_LINE, and a doubtful word without a letter or digit,
 * are dropped (README, "Performance and accuracy"). A filter that would keep less than
 * FILTER_KEEPS of the page's letters and digits is judging a page that read poorly, not
 * noise on it, and is overruled: a faint receipt lost 24 of its 26 lines to it.
 */
const NOISE_LINE = 40;
const DOUBTFUL_WORD = 50;
export const FILTER_KEEPS = 0.5;
const isSpeck = (w: TessWord) => w.confidence < DOUBTFUL_WORD && !/[\p{L}\p{N}]/u.test(w.text);

/** Maps a box of the turned image back onto the image before it was turned (`turn` gives that image's size). */
function unturnBox({ degrees, width: w, height: h }: Turn): (b: Box) => Box {
  switch (degrees) {
    case 90:
      return (b) => ({ x0: b.y0, y0: h - b.x1, x1: b.y1, y1: h - b.x0 });
    case 180:
      return (b) => ({ x0: w - b.x1, y0: h - b.y1, x1: w - b.x0, y1: h - b.y0 });
    case 270:
      return (b) => ({ x0: w - b.y1, y0: b.x0, x1: w - b.y0, y1: b.x1 });
    default:
      return (b) => b;
  }
}

/**
 * Tesseract emits tables and pull-outs before the flowing text around them, so a receipt's
 * header can come out after its totals. Blocks are re-ordered by Breuel's rules for text
 * lines (High Performance Document Layout Analysis, 2003): a comes before b when they
 * share columns and a is higher, or when a lies wholly left of b and no block between
 * them vertically spans both (a heading across two columns ends the left one). Ties and
 * cycles keep Tesseract's own order.
 */
export function readingOrder<T extends { bbox: Box }>(blocks: T[]): T[] {
  const n = blocks.length;
  if (n < 2) return blocks;
  const boxes = blocks.map((b) => b.bbox);
  const cy = boxes.map((b) => (b.y0 + b.y1) / 2);
  const xOverlap = (a: Box, b: Box) => Math.min(a.x1, b.x1) > Math.max(a.x0, b.x0);
  const before = (i: number, j: number) => {
    const a = boxes[i];
    const b = boxes[j];
    if (xOverlap(a, b)) return cy[i] < cy[j];
    if (a.x1 > b.x0) return false;
    const [lo, hi] = cy[i] < cy[j] ? [cy[i], cy[j]] : [cy[j], cy[i]];
    return !boxes.some((c, k) => k !== i && k !== j && cy[k] > lo && cy[k] < hi && xOverlap(c, a) && xOverlap(c, b));
  };
  const successors: number[][] = blocks.map(() => []);
  const pending = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j && before(i, j)) {
        successors[i].push(j);
        pending[j] += 1;
      }
    }
  }
  const done = new Array<boolean>(n).fill(false);
  const order: T[] = [];
  while (order.length < n) {
    let next = -1;
    for (let i = 0; i < n && next < 0; i++) if (!done[i] && pending[i] === 0) next = i;
    // A cycle (overlapping blocks): break it at the first block Tesseract gave.
    if (next < 0) next = done.indexOf(false);
    done[next] = true;
    order.push(blocks[next]);
    for (const j of successors[next]) pending[j] -= 1;
  }
  return order;
}

/** Mean word confidence weighted by word length, or null when nothing was read. */
export function pageConfidence(lines: Line[]): number | null {
  let weight = 0;
  let sum = 0;
  for (const word of lines.flatMap((l) => l.words)) {
    weight += word.text.length;
    sum += (word.confidence ?? 0) * word.text.length;
  }
  return weight ? round(sum / weight) : null;
}

/** Most words (of three letters or more) stand taller than wide: the text runs up or down the page. */
export function isSideways(lines: Line[]): boolean {
  const words = lines.flatMap((l) => l.words).filter((w) => w.text.length >= 3);
  const tall = words.filter((w) => w.bbox.y1 - w.bbox.y0 > w.bbox.x1 - w.bbox.x0).length;
  return words.length > 0 && tall > words.length / 2;
}
