/**
 * Runs inside the worker's thread pool (piscina), never on the main event loop: pdf.js
 * parses and paints synchronously, and a hostile file can keep it busy for a long time.
 * A page that overruns its time limit is aborted by terminating this thread.
 */
import { dirname, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { workerData } from 'node:worker_threads';
import sharp from 'sharp';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/types/src/display/api';
import type { FailureCode } from '../../contract/failures';
import type { OcrMode } from '../../contract/job-options';
import { OcrEngine } from '../ocr/ocr-engine';
import { OrientationEvidence, PageReader, readUpright } from '../ocr/orientation';
import { ChosenRead, READ_POLICY, ReadPolicy, readBinarised } from '../ocr/binarisation';
import { readBlocks } from '../ocr/ocr-result';
import { Line, PageResult, round, textOf } from '../../contract/results';
import { engineInput, Grey, planRaster, rgbaToPgm, turnGrey } from './raster';
import { DecodedImage, greyPixels, KIND_1BPP, KIND_RGB, Matrix, placeImage, soleImage } from './own-pixels';
import { pageJpeg } from './page-jpeg';
import { isUsableTextLayer, linesFromTextItems, TextItemLike } from './text-layer';
import { imageFailure, type ImagePage, imagePage } from './image-pdf';
import type { ImageType } from '../../contract/inputs';

export interface PdfThreadOptions {
  langPath: string;
  recyclePages: number;
  warmUpLanguages: string;
  detectOrientation: boolean;
  /** Images with more pixels are skipped by pdf.js rather than decoded (see pool-task.ts). */
  maxImagePixels: number;
  /** Page segmentation mode and Tesseract variables over the chosen ones, to measure levers in-process; the service sets none. */
  psm?: string;
  parameters?: Record<string, string>;
  reading?: Partial<ReadPolicy>;
  /** OCR_OWN_PIXELS: a page that is one image is read from the image's own pixels; otherwise every page is rendered. */
  ownPixels?: boolean;
}

export interface InspectTask {
  path: string;
}

export interface PageTask {
  path: string;
  page: number;
  /** Set when `path` is an uploaded image (page `index` of it): its pixels are read natively, without pdf.js. */
  image?: { type: ImageType; index: number };
  languages: string;
  ocr: OcrMode;
  dpi: number;
  maxPixels: number;
  minDpi: number;
}

export interface ImageTask {
  path: string;
  page: number;
  width: number;
  maxPixels: number;
}

export type TaskFailure = { ok: false; code: FailureCode; message: string };
export type InspectOutcome = { ok: true; pageCount: number } | TaskFailure;
/** Measured here, in the thread; null when the page was not rendered (read from its text layer). */
export interface PageTimings {
  /** Opening the document (cached per thread: near zero after its first page) and the page. */
  openMs: number;
  /** Reading the text layer; null when the page is OCR'd without looking (ocr=always). */
  textLayerMs: number | null;
  renderMs: number | null;
  /** Orientation detection; 0 when the first read was good enough to skip it. */
  osdMs: number | null;
  ocrMs: number | null;
}
export type ImageOutcome = { ok: true; png: Uint8Array } | TaskFailure;
/** How an OCR'd page's pixels were made: from its one image's own pixels, or by rendering the page. */
export type RasterPath = 'image' | 'render';
export type PageOutcome =
  | {
      ok: true;
      result: PageResult;
      timings: PageTimings;
      orientation: OrientationEvidence | null;
      engineRecycled: boolean;
      /** Null for a page read from its text layer. */
      raster: RasterPath | null;
    }
  | TaskFailure;

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

const options = workerData as PdfThreadOptions;
const policy: ReadPolicy = { ...READ_POLICY, ...options.reading };
const engine = new OcrEngine(options.langPath, options.recyclePages, options.detectOrientation, options.psm as never, options.parameters);
// Load the model while the thread waits for its first page (the inspection thread never OCRs).
if (options.warmUpLanguages) engine.warmUp(options.warmUpLanguages).catch(() => undefined);

const pdfjsPath = require.resolve('pdfjs-dist/legacy/build/pdf.mjs');
const pdfjsRoot = join(dirname(pdfjsPath), '..', '..');
// TypeScript keeps this a real import() under module "nodenext"; pdf.js is ESM only.
const pdfjsReady: Promise<PdfJs> = import(pdfjsPath);
/**
 * Settles once pdf.js is loaded: a fresh thread's first task waits for it outside its time
 * limit. Without a worker thread of its own, pdf.js would load its worker code (2 MB) on the
 * first document opened; imported here, it registers itself as globalThis.pdfjsWorker,
 * where pdf.js looks first.
 */
export const loaded: Promise<unknown> = Promise.all([pdfjsReady, import(join(dirname(pdfjsPath), 'pdf.worker.mjs'))]).catch(
  () => undefined,
);

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
      // Images above the page's own pixel cap are skipped rather than decoded into gigabytes.
      maxImageSize: options.maxImagePixels,
      // Warnings, so that pool-task.ts hears of a skipped image.
      verbosity: 1,
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
  return task.image ? processImagePage(task, task.image) : processPdfPage(task);
}

/**
 * A page of an uploaded image: decoded by sharp and placed on the page exactly as the
 * own-pixels path places the PDF's image (imageToPdf made that page of this image), so the
 * pixels, sizes and boxes are those of the PDF job, without pdf.js' JavaScript decoder.
 */
async function processImagePage(task: PageTask, image: NonNullable<PageTask['image']>): Promise<PageOutcome> {
  const start = performance.now();
  let decoded: ImagePage;
  try {
    decoded = await imagePage(task.path, image.type, image.index, {
      maxPixels: task.maxPixels,
      dpi: task.dpi,
      // sharp's longest; the pool stops the task at PAGE_TIMEOUT_MS.
      timeoutSeconds: 3600,
    });
  } catch (error) {
    return { ok: false, ...imageFailure(error) };
  }
  const { widthPt, heightPt } = decoded;
  const width = round(widthPt);
  const height = round(heightPt);
  if (task.ocr === 'never') {
    const result = textLayerResult(task.page, '', [], width, height);
    return {
      ok: true,
      result,
      timings: { openMs: 0, textLayerMs: 0, renderMs: null, osdMs: null, ocrMs: null },
      orientation: null,
      engineRecycled: false,
      raster: null,
    };
  }
  const plan = planRaster(widthPt, heightPt, task.dpi, task.maxPixels, task.minDpi);
  if (!plan.ok) return pageTooLarge(task.page, width, height, plan.dpi);
  const view: Matrix = [plan.scale, 0, 0, -plan.scale, 0, heightPt * plan.scale];
  const placed = placeImage(decoded.pixels, decoded.width, decoded.height, [widthPt, 0, 0, heightPt, 0, 0], view, plan.width, plan.height);
  if (!placed) return { ok: false, code: 'image_invalid', message: `Page ${task.page} of the image could not be placed.` };
  const grey: Grey = { pgm: placed.pgm, width: plan.width, height: plan.height, bilevel: decoded.bilevel && placed.sampling === 'nearest' };
  const before = { openMs: 0, textLayerMs: null, renderMs: performance.now() - start };
  return recognise(task, { image: grey, scale: plan.scale, width, height, raster: 'image', before });
}

async function processPdfPage(task: PageTask): Promise<PageOutcome> {
  const openStart = performance.now();
  let openMs: number;
  let textLayerMs: number | null = null;
  let doc: PDFDocumentProxy;
  let page: PDFPageProxy;
  try {
    doc = await openDocument(task.path);
    page = await doc.getPage(task.page);
    openMs = performance.now() - openStart;
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
      const textStart = performance.now();
      const content = await page.getTextContent();
      const items: TextItemLike[] = content.items
        .filter((item) => 'str' in item)
        .map((item) => ({ ...item, transform: pdfjs.Util.transform(viewport.transform, item.transform) }));
      const lines = linesFromTextItems(items);
      const text = textOf(lines);
      textLayerMs = performance.now() - textStart;
      if (task.ocr === 'never' || isUsableTextLayer(text)) {
        const result = textLayerResult(task.page, text, lines, width, height);
        const timings = { openMs, textLayerMs, renderMs: null, osdMs: null, ocrMs: null };
        return { ok: true, result, timings, orientation: null, engineRecycled: false, raster: null };
      }
    }

    const plan = planRaster(viewport.width, viewport.height, task.dpi, task.maxPixels, task.minDpi);
    if (!plan.ok) return pageTooLarge(task.page, width, height, plan.dpi);
    const renderStart = performance.now();
    const own = options.ownPixels
      ? ((await jpegPixels(task.path, task.page, page, plan.scale, plan.width, plan.height)) ??
        (await ownPixels(page, plan.scale, plan.width, plan.height)))
      : null;
    const image = own ?? (await renderGrey(doc, page, plan.scale, plan.width, plan.height));
    const before = { openMs, textLayerMs, renderMs: performance.now() - renderStart };
    return await recognise(task, { image, scale: plan.scale, width, height, raster: own ? 'image' : 'render', before });
  } finally {
    page.cleanup();
  }
}

function textLayerResult(page: number, text: string, lines: Line[], width: number, height: number): PageResult {
  return {
    page,
    source: 'text',
    text,
    confidence: null,
    width,
    height,
    rotation: 0,
    rotationMethod: 'text-layer',
    readMethod: 'text-layer',
    noiseFilter: null,
    dpi: null,
    language: null,
    lines,
  };
}

function pageTooLarge(page: number, width: number, height: number, dpi: number): TaskFailure {
  return {
    ok: false,
    code: 'page_too_large',
    message: `Page ${page} measures ${width} x ${height} pt; within the pixel limit it would be rendered at ${dpi} dpi, below the minimum for OCR.`,
  };
}

/** OCR of the page's pixels at `scale` (pixels per point), upright whichever way the page was turned. */
/** How the page's pixels were made for recognise: their scale, the page's size in points, the path and its time so far. */
interface Pixels {
  image: Grey;
  scale: number;
  width: number;
  height: number;
  raster: RasterPath;
  before: Pick<PageTimings, 'openMs' | 'textLayerMs' | 'renderMs'>;
}

async function recognise(task: PageTask, { image, scale, width, height, raster, before }: Pixels): Promise<PageOutcome> {
  const dpi = scale * 72;
  const recycledBefore = engine.recycled;
  const ocrStart = performance.now();
  // Which binarisation each read kept, found again by the lines orientation keeps.
  const chosen = new WeakMap<Line[], ChosenRead>();
  const reader: PageReader = {
    read: async (degrees) => {
      const turned = turnGrey(image, degrees);
      const turn = { degrees, width: image.width, height: image.height };
      const input = engineInput(turned);
      // A black and white image is read as it is: another binarisation would read the same pixels.
      const best = await readBinarised(
        async (thresholding) => readBlocks(await engine.recognize(input, task.languages, dpi, thresholding), scale, turn),
        turned.bilevel ? { ...policy, second: null } : policy,
      );
      chosen.set(best.lines, best);
      return best.lines;
    },
    detect: () => engine.detectOrientation(image.pgm, dpi),
  };
  const read = await readUpright(reader, engine.osd);
  const { lines, confidence, rotation, rotationMethod } = read;
  const { readMethod, noiseFilter } = chosen.get(lines)!;
  const timings = { ...before, osdMs: read.osdMs, ocrMs: performance.now() - ocrStart - read.osdMs };
  const text = textOf(lines);
  const result: PageResult = {
    page: task.page,
    source: 'ocr',
    text,
    confidence,
    width,
    height,
    rotation,
    rotationMethod,
    readMethod,
    noiseFilter,
    dpi: round(dpi),
    language: task.languages,
    lines,
  };
  return { ok: true, result, timings, orientation: read.evidence, engineRecycled: engine.recycled > recycledBefore, raster };
}

/** The page as displayed, `width` pixels wide, as a PNG: for people to look at, with the word boxes over it. */
export async function renderImage(task: ImageTask): Promise<ImageOutcome> {
  let doc: PDFDocumentProxy;
  let page: PDFPageProxy;
  try {
    doc = await openDocument(task.path);
    page = await doc.getPage(task.page);
  } catch (error) {
    return documentFailure(error);
  }
  try {
    const viewport = page.getViewport({ scale: 1 });
    const scale = task.width / viewport.width;
    const height = Math.max(1, Math.round(viewport.height * scale));
    if (task.width * height > task.maxPixels) {
      return {
        ok: false,
        code: 'page_too_large',
        message: `Page ${task.page} would be ${task.width} x ${height} pixels, more than OCR_MAX_PIXELS; ask for a narrower image.`,
      };
    }
    const png = await paint(doc, page, scale, task.width, height, (target) =>
      (target.canvas as { encode(format: 'png'): Promise<Buffer> }).encode('png'),
    );
    return { ok: true, png };
  } finally {
    page.cleanup();
  }
}

/**
 * A page that is one image and nothing else, made from that image's pixels as pdf.js decoded
 * them (JPEG, CCITT, JBIG2, Flate...) instead of painting the page: the same size, scale and
 * place as the render, so the resolution rules and the word boxes stay those of the render.
 * Null for every other page, and for an image pdf.js did not hand over as pixels.
 */
async function ownPixels(page: PDFPageProxy, scale: number, width: number, height: number): Promise<Grey | null> {
  const pdfjs = await pdfjsReady;
  const list = await page.getOperatorList();
  const found = soleImage(list.fnArray, list.argsArray, pdfjs.OPS as never);
  if (!found) return null;
  // Sent by pdf.js' worker while it builds the operator list; images shared across pages live in commonObjs.
  const objs = found.objId.startsWith('g_') ? page.commonObjs : page.objs;
  const decoded = await new Promise<DecodedImage | null>((resolve) => {
    try {
      objs.get(found.objId, resolve as never);
    } catch {
      resolve(null);
    }
  });
  const pixels = decoded ? greyPixels(decoded) : null;
  if (!decoded || !pixels) return null;
  const view = page.getViewport({ scale }).transform as Matrix;
  const placed = placeImage(pixels, decoded.width, decoded.height, found.ctm, view, width, height, decoded.interpolate === true);
  if (!placed) return null;
  // A 1-bit image copied pixel for pixel is still black and white.
  return { pgm: placed.pgm, width, height, bilevel: decoded.kind === KIND_1BPP && placed.sampling === 'nearest' };
}

/**
 * A page that is one JPEG (see pageJpeg), decoded by sharp (libjpeg-turbo) instead of pdf.js'
 * JavaScript decoder, and placed as ownPixels places pdf.js' pixels. Null for every other page,
 * and for a JPEG sharp cannot read whole or that is not the size its PDF says.
 */
async function jpegPixels(
  path: string,
  number: number,
  page: PDFPageProxy,
  scale: number,
  width: number,
  height: number,
): Promise<Grey | null> {
  const found = await pageJpeg(path, number);
  if (!found) return null;
  const decoded = await sharp(found.jpeg, { limitInputPixels: options.maxImagePixels, failOn: 'error' })
    .toColourspace(found.grey ? 'b-w' : 'srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch(() => null);
  if (!decoded || decoded.info.width !== found.width || decoded.info.height !== found.height) return null;
  const { data, info } = decoded;
  const pixels =
    info.channels === 1 ? data : info.channels === 3 ? greyPixels({ width: info.width, height: info.height, kind: KIND_RGB, data }) : null;
  if (!pixels) return null;
  const view = page.getViewport({ scale }).transform as Matrix;
  const placed = placeImage(pixels, info.width, info.height, found.ctm, view, width, height, found.interpolate);
  return placed && { pgm: placed.pgm, width, height };
}

async function renderGrey(doc: PDFDocumentProxy, page: PDFPageProxy, scale: number, width: number, height: number): Promise<Grey> {
  const pgm = await paint(doc, page, scale, width, height, (target) =>
    rgbaToPgm(target.context.getImageData(0, 0, width, height).data, width, height),
  );
  return { pgm, width, height };
}

let canvases = 0;
/** The native memory of the canvases this thread paints on now (RGBA), which its heap figures do not show. */
export const canvasBytes = () => canvases;

/** Paints the page on a white canvas of the document's factory, reads it with `read`, and frees the canvas. */
async function paint<T>(
  doc: PDFDocumentProxy,
  page: PDFPageProxy,
  scale: number,
  width: number,
  height: number,
  read: (target: CanvasAndContext) => T | Promise<T>,
): Promise<T> {
  const factory = (doc as unknown as { canvasFactory: CanvasFactory }).canvasFactory;
  const target = factory.create(width, height);
  canvases += width * height * 4;
  try {
    await page.render({
      canvas: target.canvas as never,
      canvasContext: target.context as never,
      viewport: page.getViewport({ scale }),
      background: 'white',
    }).promise;
    return await read(target);
  } finally {
    canvases -= width * height * 4;
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
