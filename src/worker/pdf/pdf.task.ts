/**
 * Runs inside the worker's thread pool (piscina), never on the main event loop: pdf.js
 * parses and paints synchronously, and a hostile file can keep it busy for a long time.
 * A page that overruns its time limit is aborted by terminating this thread.
 */
import { dirname, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { workerData } from 'node:worker_threads';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/types/src/display/api';
import type { FailureCode } from '../../contract/failures';
import type { OcrMode } from '../../contract/queues';
import { OcrEngine, OrientationGuess } from '../ocr/ocr-engine';
import { isSideways, linesFromBlocks, pageConfidence } from '../ocr/ocr-result';
import { Line, PageResult, RotationMethod, round } from '../../contract/results';
import { Grey, planRaster, rgbaToPgm, turnGrey } from './raster';
import { isUsableTextLayer, linesFromTextItems, TextItemLike } from './text-layer';

export interface PdfThreadOptions {
  langPath: string;
  recyclePages: number;
  warmUpLanguages: string;
  detectOrientation: boolean;
  psm?: string;
  parameters?: Record<string, string>;
}

export interface InspectTask {
  path: string;
}

export interface PageTask {
  path: string;
  page: number;
  languages: string;
  ocr: OcrMode;
  dpi: number;
  maxPixels: number;
  minDpi: number;
}

export type TaskFailure = { ok: false; code: FailureCode; message: string };
export type InspectOutcome = { ok: true; pageCount: number } | TaskFailure;
/** Measured here, in the thread; null when the page was not rendered (read from its text layer). */
export interface PageTimings {
  renderMs: number | null;
  /** Orientation detection; 0 when the first read was good enough to skip it. */
  osdMs: number | null;
  ocrMs: number | null;
}
/** What the orientation decision rested on, for logs and the bench. */
export interface OrientationEvidence {
  uprightConfidence: number | null;
  guess: OrientationGuess | null;
  turnedConfidence: number | null;
}
export type PageOutcome =
  { ok: true; result: PageResult; timings: PageTimings; orientation: OrientationEvidence | null; engineRecycled: boolean } | TaskFailure;

/** A first read at or above this mean word confidence is taken as upright, without orientation detection. */
export const CONFIDENT_READ = 70;
/** OSD must be at least this sure (Tesseract's own threshold for turning a page in PSM 0/1). */
export const MIN_OSD_CONFIDENCE = 7;
/** And the read after turning must beat the upright read by this much mean word confidence. */
export const BETTER_READ_MARGIN = 10;
/** How much worse a sideways page Tesseract read on its own may read once turned upright. */
const SIDEWAYS_SLACK = 3;

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

const options = workerData as PdfThreadOptions;
const engine = new OcrEngine(options.langPath, options.recyclePages, options.detectOrientation, options.psm as never, options.parameters);
// Load the model while the thread waits for its first page (the inspection thread never OCRs).
if (options.warmUpLanguages) engine.warmUp(options.warmUpLanguages).catch(() => undefined);

const pdfjsPath = require.resolve('pdfjs-dist/legacy/build/pdf.mjs');
const pdfjsRoot = join(dirname(pdfjsPath), '..', '..');
// TypeScript keeps this a real import() under module "nodenext"; pdf.js is ESM only.
const pdfjsReady: Promise<PdfJs> = import(pdfjsPath);

let cached: { path: string; doc: Promise<PDFDocumentProxy> } | null = null;

async function openDocument(path: string): Promise<PDFDocumentProxy> {
  if (cached?.path === path) return cached.doc;
  if (cached) void cached.doc.then((d) => d.destroy()).catch(() => undefined);
  const doc = (async () => {
    const pdfjs = await pdfjsReady;
    const data = new Uint8Array(await readFile(path));
    return pdfjs.getDocument({
      data,
      standardFontDataUrl: join(pdfjsRoot, 'standard_fonts/'),
      cMapUrl: join(pdfjsRoot, 'cmaps/'),
      wasmUrl: join(pdfjsRoot, 'wasm/'),
      iccUrl: join(pdfjsRoot, 'iccs/'),
      isEvalSupported: false,
      // Images above this are skipped rather than decoded into gigabytes of pixels.
      maxImageSize: 100_000_000,
      verbosity: 0,
    }).promise;
  })();
  cached = { path, doc };
  doc.catch(() => {
    if (cached?.doc === doc) cached = null;
  });
  return doc;
}

function documentFailure(error: unknown): TaskFailure {
  const name = (error as Error)?.name;
  if (name === 'PasswordException') {
    return { ok: false, code: 'pdf_encrypted', message: 'The PDF is encrypted and needs a password to open.' };
  }
  return { ok: false, code: 'pdf_invalid', message: `The file is not a readable PDF: ${(error as Error)?.message ?? error}` };
}

export async function inspect(task: InspectTask): Promise<InspectOutcome> {
  try {
    const doc = await openDocument(task.path);
    return { ok: true, pageCount: doc.numPages };
  } catch (error) {
    return documentFailure(error);
  }
}

export async function processPage(task: PageTask): Promise<PageOutcome> {
  let doc: PDFDocumentProxy;
  let page: PDFPageProxy;
  try {
    doc = await openDocument(task.path);
    page = await doc.getPage(task.page);
  } catch (error) {
    const failure = documentFailure(error);
    return failure.code === 'pdf_invalid'
      ? { ...failure, message: `Page ${task.page} could not be read: ${(error as Error).message}` }
      : failure;
  }
  try {
    const viewport = page.getViewport({ scale: 1 });
    const width = round(viewport.width);
    const height = round(viewport.height);

    if (task.ocr !== 'always') {
      const pdfjs = await pdfjsReady;
      const content = await page.getTextContent();
      const items: TextItemLike[] = content.items
        .filter((item) => 'str' in item)
        .map((item) => ({ ...item, transform: pdfjs.Util.transform(viewport.transform, item.transform) }));
      const lines = linesFromTextItems(items);
      const text = lines.map((l) => l.text).join('\n');
      if (task.ocr === 'never' || isUsableTextLayer(text)) {
        const result: PageResult = {
          page: task.page,
          source: 'text',
          text,
          confidence: null,
          width,
          height,
          rotation: 0,
          rotationMethod: 'text-layer',
          dpi: null,
          language: null,
          lines,
        };
        const timings = { renderMs: null, osdMs: null, ocrMs: null };
        return { ok: true, result, timings, orientation: null, engineRecycled: false };
      }
    }

    const plan = planRaster(viewport.width, viewport.height, task.dpi, task.maxPixels, task.minDpi);
    if (!plan.ok) {
      return {
        ok: false,
        code: 'page_too_large',
        message: `Page ${task.page} measures ${width} x ${height} pt; within the pixel limit it would be rendered at ${plan.dpi} dpi, below the minimum for OCR.`,
      };
    }
    const renderStart = performance.now();
    const image = await renderGrey(doc, page, plan.scale, plan.width, plan.height);
    const dpi = plan.scale * 72;
    const recycledBefore = engine.recycled;
    const read = await readUpright(image, task.languages, dpi, plan.scale);
    const { lines, confidence, rotation, rotationMethod } = read;
    const timings = { renderMs: read.started - renderStart, osdMs: read.osdMs, ocrMs: performance.now() - read.started - read.osdMs };
    const text = lines.map((l) => l.text).join('\n');
    const result: PageResult = {
      page: task.page,
      source: 'ocr',
      text,
      confidence,
      width,
      height,
      rotation,
      rotationMethod,
      dpi: round(dpi),
      language: task.languages,
      lines,
    };
    return { ok: true, result, timings, orientation: read.evidence, engineRecycled: engine.recycled > recycledBefore };
  } finally {
    page.cleanup();
  }
}

interface Read {
  lines: Line[];
  confidence: number | null;
  rotation: PageResult['rotation'];
  rotationMethod: RotationMethod;
  evidence: OrientationEvidence | null;
  started: number;
  osdMs: number;
}

/**
 * Reads the page as it stands; only a poor read (or none) pays for orientation detection,
 * and the page is turned only when OSD is sure and the turned read is clearly better.
 * Tesseract's own OSD pass (PSM 1) ran on every page and turned pages on its say alone.
 */
async function readUpright(image: Grey, languages: string, dpi: number, scale: number): Promise<Read> {
  const started = performance.now();
  const lines = linesFromBlocks(await engine.recognize(image.pgm, languages, dpi), scale);
  const confidence = pageConfidence(lines);
  const upright = { lines, confidence, rotation: 0 as const, started, osdMs: 0 };
  if (!engine.osd) return { ...upright, rotationMethod: 'disabled', evidence: null };
  // Tesseract reads a page turned by 90 degrees well by itself, but in sideways lines and blocks.
  const sideways = isSideways(lines);
  if (confidence !== null && confidence >= CONFIDENT_READ && !sideways) {
    return { ...upright, rotationMethod: 'confident-read', evidence: null };
  }
  const osdStart = performance.now();
  const guess = await engine.detectOrientation(image.pgm, dpi);
  const osdMs = performance.now() - osdStart;
  const evidence: OrientationEvidence = { uprightConfidence: confidence, guess, turnedConfidence: null };
  if (!guess || guess.degrees === 0 || guess.confidence < MIN_OSD_CONFIDENCE || (sideways && guess.degrees === 180)) {
    return { ...upright, osdMs, rotationMethod: 'osd-upright', evidence };
  }
  const turnedImage = turnGrey(image, guess.degrees);
  const turnedLines = linesFromBlocks(await engine.recognize(turnedImage.pgm, languages, dpi), scale, {
    degrees: guess.degrees,
    width: image.width,
    height: image.height,
  });
  const turnedConfidence = pageConfidence(turnedLines);
  evidence.turnedConfidence = turnedConfidence;
  // A sideways page that Tesseract already read well only has to read no worse once turned.
  const needed = (confidence ?? 0) + (sideways && guess.degrees !== 180 ? -SIDEWAYS_SLACK : BETTER_READ_MARGIN);
  if (turnedConfidence !== null && turnedConfidence >= needed) {
    return { lines: turnedLines, confidence: turnedConfidence, rotation: guess.degrees, rotationMethod: 'osd', evidence, started, osdMs };
  }
  return { ...upright, osdMs, rotationMethod: 'osd-unconfirmed', evidence };
}

async function renderGrey(doc: PDFDocumentProxy, page: PDFPageProxy, scale: number, width: number, height: number): Promise<Grey> {
  const factory = (doc as unknown as { canvasFactory: CanvasFactory }).canvasFactory;
  const target = factory.create(width, height);
  try {
    await page.render({
      canvas: target.canvas as never,
      canvasContext: target.context as never,
      viewport: page.getViewport({ scale }),
      background: 'white',
    }).promise;
    const pixels = target.context.getImageData(0, 0, width, height);
    return { pgm: rgbaToPgm(pixels.data, width, height), width, height };
  } finally {
    factory.destroy(target);
  }
}

interface CanvasAndContext {
  canvas: unknown;
  context: { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
interface CanvasFactory {
  create(width: number, height: number): CanvasAndContext;
  destroy(target: CanvasAndContext): void;
}
