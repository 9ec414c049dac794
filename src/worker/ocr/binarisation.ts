import type { Line, ReadMethod } from '../../contract/results';
import { alphanumericCount, pageConfidence, PageRead } from './ocr-result';

/** Tesseract's `thresholding_method`: its global Otsu threshold, or Sauvola's local one. */
export type Thresholding = 'otsu' | 'sauvola';
export const THRESHOLDING_METHOD: Record<Thresholding, string> = { otsu: '0', sauvola: '2' };

/** How a page is read; the service uses READ_POLICY, the bench may measure others in-process. */
export interface ReadPolicy {
  first: Thresholding;
  /** The other binarisation, tried on a poor first read; null never reads twice. */
  second: Thresholding | null;
  /** A first read whose mean word confidence is below this (or that read nothing) is poor. */
  secondBelow: number;
}

/**
 * Otsu first: Sauvola, chosen once on 20 receipts of one shop, read a faint receipt to 23
 * characters where Otsu reads every line; on 120 receipts Otsu alone is better on average and
 * Sauvola better on some pages. Below 70 a second read pays on both halves of the receipts and
 * at every source resolution, and is rare enough to cost little (README, "What each lever gave").
 */
export const READ_POLICY: ReadPolicy = { first: 'otsu', second: 'sauvola', secondBelow: 70 };

/**
 * The evidence a read gives of text on the page: its letters and digits, each counted by the
 * confidence of its word (the characters one may expect to be right). A read of noise scores
 * low however many symbols it has; a read that lost half the page to a bad threshold scores
 * about half.
 */
export function expectedCharacters(lines: Line[]): number {
  let n = 0;
  for (const word of lines.flatMap((l) => l.words)) {
    n += (alphanumericCount(word.text) * (word.confidence ?? 0)) / 100;
  }
  return n;
}

export interface ChosenRead extends PageRead {
  readMethod: Exclude<ReadMethod, 'text-layer'>;
}

/**
 * Reads with the first binarisation; only a poor read pays for a second with the other,
 * and the read with more expected characters is kept (the first on a tie).
 */
export async function readBinarised(read: (thresholding: Thresholding) => Promise<PageRead>, policy: ReadPolicy): Promise<ChosenRead> {
  const first = await read(policy.first);
  const confidence = pageConfidence(first.lines);
  if (!policy.second || (confidence !== null && confidence >= policy.secondBelow)) return { ...first, readMethod: methodOf(policy.first) };
  const second = await read(policy.second);
  if (expectedCharacters(second.lines) > expectedCharacters(first.lines)) return { ...second, readMethod: overOf(policy.second) };
  return { ...first, readMethod: overOf(policy.first) };
}

const methodOf = (t: Thresholding): ChosenRead['readMethod'] => (t === 'otsu' ? 'otsu' : 'sauvola-over-otsu');
const overOf = (t: Thresholding): ChosenRead['readMethod'] => (t === 'otsu' ? 'otsu-over-sauvola' : 'sauvola-over-otsu');
