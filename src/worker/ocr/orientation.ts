import type { Line, PageResult, RotationMethod } from '../../contract/results';
import { isSideways, pageConfidence } from './ocr-result';

export type Degrees = PageResult['rotation'];

/** What Tesseract's orientation and script detection (OSD) says about a page image. */
export interface OrientationGuess {
  /** Degrees clockwise the image must be turned for its text to stand upright. */
  degrees: Degrees;
  /** Tesseract's orientation confidence (the margin of the best orientation over the next). */
  confidence: number;
}

/** What the orientation decision rested on, for logs and the bench. */
export interface OrientationEvidence {
  uprightConfidence: number | null;
  guess: OrientationGuess | null;
  turnedConfidence: number | null;
}

/** Reads the page image turned clockwise by `degrees`, boxes mapped back onto the page; and asks OSD. */
export interface PageReader {
  read(degrees: Degrees): Promise<Line[]>;
  detect(): Promise<OrientationGuess | null>;
}

export interface UprightRead {
  lines: Line[];
  confidence: number | null;
  rotation: Degrees;
  rotationMethod: RotationMethod;
  evidence: OrientationEvidence | null;
  osdMs: number;
}

/** A first read at or above this mean word confidence is taken as upright, without orientation detection. */
export const CONFIDENT_READ = 70;
/** OSD this sure of a turn (Tesseract's own margin for turning a page in PSM 0/1)... */
export const SURE_OSD = 7;
/** ...needs the turned read to beat the upright one by this much mean word confidence; */
export const BETTER_READ_MARGIN = 10;
/** a less sure OSD (short pages) needs this much, and a turned read confident in itself. */
export const MUCH_BETTER_READ_MARGIN = 25;

/**
 * Reads the page as it stands; only a poor read pays for orientation detection, and the
 * page is turned only on OSD's guess and a clearly better read once turned (the less sure
 * OSD is, the better that read must be). Before, Tesseract's own OSD pass (PSM 1) ran on every page and a
 * 180-degree retry kept whichever read scored higher, which turned upright pages over.
 */
export async function readUpright(reader: PageReader, detectOrientation: boolean): Promise<UprightRead> {
  const lines = await reader.read(0);
  const confidence = pageConfidence(lines);
  const upright = { lines, confidence, rotation: 0 as const, osdMs: 0 };
  if (!detectOrientation) return { ...upright, rotationMethod: 'disabled', evidence: null };
  if (confidence !== null && confidence >= CONFIDENT_READ) {
    // Tesseract reads a page turned by 90 degrees by itself, in lines running up or down it.
    const turn = sidewaysTurn(lines);
    if (turn) return { ...upright, rotation: turn, rotationMethod: 'sideways-read', evidence: null };
    return { ...upright, rotationMethod: 'confident-read', evidence: null };
  }
  const osdStart = performance.now();
  const guess = await reader.detect();
  const osdMs = performance.now() - osdStart;
  const evidence: OrientationEvidence = { uprightConfidence: confidence, guess, turnedConfidence: null };
  if (!guess || guess.degrees === 0) return { ...upright, osdMs, rotationMethod: 'osd-upright', evidence };
  const turnedLines = await reader.read(guess.degrees);
  const turnedConfidence = pageConfidence(turnedLines);
  evidence.turnedConfidence = turnedConfidence;
  const base = confidence ?? 0;
  const needed = guess.confidence >= SURE_OSD ? base + BETTER_READ_MARGIN : Math.max(base + MUCH_BETTER_READ_MARGIN, CONFIDENT_READ);
  if (turnedConfidence !== null && turnedConfidence >= needed) {
    return { lines: turnedLines, confidence: turnedConfidence, rotation: guess.degrees, rotationMethod: 'osd', evidence, osdMs };
  }
  return { ...upright, osdMs, rotationMethod: 'osd-unconfirmed', evidence };
}

/**
 * When most words stand taller than wide, the turn that rights the page, from the way its
 * lines run: down the page (a page turned clockwise, righted by 270) or up it (90).
 */
export function sidewaysTurn(lines: Line[]): 90 | 270 | null {
  if (!isSideways(lines)) return null;
  let down = 0;
  for (const line of lines) {
    const [first, last] = [line.words[0], line.words[line.words.length - 1]];
    if (first !== last) down += last.bbox.y0 + last.bbox.y1 > first.bbox.y0 + first.bbox.y1 ? 1 : -1;
  }
  return down > 0 ? 270 : down < 0 ? 90 : null;
}
