/** Boxes are in PDF points from the page's top-left corner, for text-layer and OCR pages alike. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Word {
  text: string;
  /** 0-100 from the OCR engine; null for words read from the text layer. */
  confidence: number | null;
  bbox: Box;
}

export interface Line {
  text: string;
  confidence: number | null;
  bbox: Box;
  /**
   * The text block (a column, a table, a caption) and the paragraph the line belongs to,
   * each numbered from 1 on its page in reading order.
   */
  block: number;
  paragraph: number;
  words: Word[];
}

/**
 * How `rotation` was decided. `text-layer`: not OCR'd. `disabled`: orientation detection is
 * off (OCR_DETECT_ORIENTATION=false). `confident-read`: the page read well as it stands, so
 * nothing was checked. `sideways-read`: Tesseract read it well in lines running up or down
 * the page, which give the turn. `osd-upright`: the read was poor, orientation detection (OSD) found the
 * page upright. `osd`: OSD proposed a turn and the turned read was clearly better (the less
 * sure OSD, the better it must be). `osd-unconfirmed`: OSD proposed a turn but the turned read was no better, so the
 * page was kept as it stands.
 */
export type RotationMethod = 'text-layer' | 'disabled' | 'confident-read' | 'sideways-read' | 'osd-upright' | 'osd' | 'osd-unconfirmed';

/**
 * Which binarisation gave the text of an OCR'd page. `otsu`: the first read (Tesseract's
 * default Otsu threshold) was confident (mean word confidence 70 or more) and kept.
 * `otsu-over-sauvola`: it was not, a second read with Sauvola's local threshold was tried and
 * gave fewer letters and digits weighted by confidence, so the first was kept. `sauvola-over-otsu`: the second read gave
 * more and was kept. `text-layer`: not OCR'd.
 */
export type ReadMethod = 'text-layer' | 'otsu' | 'otsu-over-sauvola' | 'sauvola-over-otsu';

/**
 * What the noise filter did to an OCR'd page: words it dropped (lines Tesseract doubts
 * throughout, symbol-only words it doubts), and whether it was overruled because it would
 * have dropped most of the page's letters and digits (then nothing is dropped).
 */
export interface NoiseFilter {
  droppedWords: number;
  overruled: boolean;
}

export interface PageResult {
  page: number;
  source: 'text' | 'ocr';
  text: string;
  confidence: number | null;
  width: number;
  height: number;
  /** Degrees clockwise the page image was turned so that its text read upright; 0 for text-layer pages. */
  rotation: 0 | 90 | 180 | 270;
  rotationMethod: RotationMethod;
  readMethod: ReadMethod;
  /** Null for text-layer pages. */
  noiseFilter: NoiseFilter | null;
  /** Resolution the page was rendered at for OCR; null for text-layer pages. */
  dpi: number | null;
  /** Languages the page was read with ("eng+fra"); null for text-layer pages. */
  language: string | null;
  lines: Line[];
}

export type PageSummary = Omit<PageResult, 'lines'>;

/** The full result of a document, as GET /v1/jobs/:id/result returns it. */
export interface DocumentResult {
  pageCount: number;
  text: string;
  pages: PageResult[];
}

/** The result inside the job resource: the pages without their lines and words. */
export interface DocumentSummary {
  pageCount: number;
  text: string;
  pages: PageSummary[];
}

export const round = (n: number) => Math.round(n * 100) / 100;

export function unionBox(boxes: Box[]): Box {
  return {
    x0: Math.min(...boxes.map((b) => b.x0)),
    y0: Math.min(...boxes.map((b) => b.y0)),
    x1: Math.max(...boxes.map((b) => b.x1)),
    y1: Math.max(...boxes.map((b) => b.y1)),
  };
}

/** A page's lines as blocks of paragraphs of lines, grouped as they come. */
export function layoutOf(lines: Line[]): Line[][][] {
  const blocks: Line[][][] = [];
  let previous: Line | undefined;
  for (const line of lines) {
    // Results stored before lines had blocks and paragraphs: one of each.
    const newBlock = !previous || previous.block !== line.block;
    if (newBlock) blocks.push([]);
    const block = blocks[blocks.length - 1];
    if (newBlock || previous?.paragraph !== line.paragraph) block.push([]);
    block[block.length - 1].push(line);
    previous = line;
  }
  return blocks;
}

/** A page's text: a line each, a blank line between paragraphs (as Tesseract writes text). */
export function textOf(lines: Line[]): string {
  return layoutOf(lines)
    .flat()
    .map((paragraph) => paragraph.map((l) => l.text).join('\n'))
    .join('\n\n');
}
