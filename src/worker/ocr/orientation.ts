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
/** OSD must be at least this sure (Tesseract's own threshold for turning a page in PSM 0/1). */
export const MIN_OSD_CONFIDENCE = 7;
/** And the read after turning must beat the upright read by this much mean word confidence... */
export const BETTER_READ_MARGIN = 10;
/** ...except a sideways page Tesseract read well on its own, which may read this much worse once turned. */
export const SIDEWAYS_SLACK = 3;

/**
 * Reads the page as it stands; only a poor read (or one in sideways lines) pays for
 * orientation detection, and the page is turned only when OSD is sure and the turned read
 * is clearly better. Before, Tesseract's own OSD pass (PSM 1) ran on every page and a
 * 180-degree retry kept whichever read scored higher, which turned upright pages over.
 */
export async function readUpright(reader: PageReader, detectOrientation: boolean): Promise<UprightRead> {
  const lines = await reader.read(0);
  const confidence = pageConfidence(lines);
  const upright = { lines, confidence, rotation: 0 as const, osdMs: 0 };
  if (!detectOrientation) return { ...upright, rotationMethod: 'disabled', evidence: null };
  // Tesseract reads a page turned by 90 degrees well by itself, but in sideways lines and blocks.
  const sideways = isSideways(lines);
  if (confidence !== null && confidence >= CONFIDENT_READ && !sideways) {
    return { ...upright, rotationMethod: 'confident-read', evidence: null };
  }
  const osdStart = performance.now();
  const guess = await reader.detect();
  const osdMs = performance.now() - osdStart;
  const evidence: OrientationEvidence = { uprightConfidence: confidence, guess, turnedConfidence: null };
  if (!guess || guess.degrees === 0 || guess.confidence < MIN_OSD_CONFIDENCE || (sideways && guess.degrees === 180)) {
    return { ...upright, osdMs, rotationMethod: 'osd-upright', evidence };
  }
  const turnedLines = await reader.read(guess.degrees);
  const turnedConfidence = pageConfidence(turnedLines);
  evidence.turnedConfidence = turnedConfidence;
  const needed = (confidence ?? 0) + (sideways && guess.degrees !== 180 ? -SIDEWAYS_SLACK : BETTER_READ_MARGIN);
  if (turnedConfidence !== null && turnedConfidence >= needed) {
    return { lines: turnedLines, confidence: turnedConfidence, rotation: guess.degrees, rotationMethod: 'osd', evidence, osdMs };
  }
  return { ...upright, osdMs, rotationMethod: 'osd-unconfirmed', evidence };
}
