import { Line, round } from '../../contract/results';

/** The parts of tesseract.js' block output this module reads. */
interface TessBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
interface TessWord {
  text: string;
  confidence: number;
  bbox: TessBox;
}
interface TessLine {
  text: string;
  confidence: number;
  bbox: TessBox;
  words: TessWord[];
}
export interface TessBlock {
  paragraphs: { lines: TessLine[] }[];
}

/**
 * Tesseract's pixel boxes to PDF points (dividing by the render scale). `turned` gives the
 * image size when Tesseract read it turned by 180 degrees, to map boxes back onto the page.
 */
export function linesFromBlocks(blocks: TessBlock[] | null, scale: number, turned?: { width: number; height: number }): Line[] {
  const unturn = (b: TessBox): TessBox =>
    turned ? { x0: turned.width - b.x1, y0: turned.height - b.y1, x1: turned.width - b.x0, y1: turned.height - b.y0 } : b;
  const toPt = (box: TessBox) => {
    const b = unturn(box);
    return { x0: round(b.x0 / scale), y0: round(b.y0 / scale), x1: round(b.x1 / scale), y1: round(b.y1 / scale) };
  };
  const lines: Line[] = [];
  for (const block of blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        const words = line.words
          .filter((w) => w.text.trim())
          .map((w) => ({ text: w.text, confidence: round(w.confidence), bbox: toPt(w.bbox) }));
        if (!words.length) continue;
        lines.push({ text: words.map((w) => w.text).join(' '), confidence: round(line.confidence), bbox: toPt(line.bbox), words });
      }
    }
  }
  return lines;
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
