/**
 * An uploaded image made into the document's PDF, as img2pdf would: one page per image
 * (every page of a TIFF), sized from the image's resolution, holding its pixels without
 * loss. A JPEG's bytes are embedded unchanged (DCTDecode), a single-strip CCITT G4 TIFF
 * page's too (CCITTFaxDecode); anything else is decoded by sharp (libvips) and stored
 * losslessly as Flate, 1-bit when the image is. From there an image job is a PDF job: the
 * pages are read from their one image's own pixels (see own-pixels.ts), the page images
 * and the searchable PDF are made from this file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import {
  concatTransformationMatrix,
  degrees,
  drawObject,
  PDFDocument,
  type PDFPage,
  type PDFRef,
  popGraphicsState,
  pushGraphicsState,
} from 'pdf-lib';
import sharp, { type Metadata } from 'sharp';
import * as UTIF from 'utif';
import type { FailureCode } from '../../contract/failures';
import type { ImageType } from '../../contract/inputs';
import { greyPixels, KIND_RGB } from './own-pixels';

const deflateAsync = promisify(deflate);

export interface ImagePdfLimits {
  maxPages: number;
  /** OCR_MAX_PIXELS: a page with more is refused before it is decoded. */
  maxPixels: number;
  /** OCR_DPI: the resolution of an image that states none, or an implausible one. */
  dpi: number;
  /** Per decode, so that no image keeps the worker busy for ever. */
  timeoutSeconds: number;
}

export type ImagePdfOutcome = { ok: true; pageCount: number; embedded: Embedding[] } | { ok: false; code: FailureCode; message: string };
/** How each page's pixels went into the PDF. */
export type Embedding = 'jpeg' | 'ccitt' | 'flate';

/** Cameras and screenshot tools write 72 or 96 ppi when they know nothing; scans are 100 ppi and up. */
export function resolutionOf(x: number | undefined, y: number | undefined, fallback: number): [number, number] {
  const [rx, ry] = [x ?? 0, y ?? x ?? 0];
  const plausible = Math.max(rx, ry) >= 100 && Math.max(rx, ry) <= 2400 && Math.min(rx, ry) >= 50;
  return plausible ? [rx, ry] : [fallback, fallback];
}

/** EXIF orientations that /Rotate shows as they should be (the mirrored ones need their pixels turned). */
const ROTATE: Record<number, number> = { 1: 0, 3: 180, 6: 90, 8: 270 };

class ImageFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
  }
}

/** What a failed imagePage says to the job's owner. */
export const imageFailure = (error: unknown): { code: FailureCode; message: string } =>
  error instanceof ImageFailure ? { code: error.code, message: error.message } : { ...invalid(error) };

const invalid = (error: unknown) =>
  new ImageFailure('image_invalid', `The image could not be read: ${String((error as Error)?.message ?? error).split('\n')[0]}`);

export async function imageToPdf(source: string, target: string, type: ImageType, limits: ImagePdfLimits): Promise<ImagePdfOutcome> {
  try {
    const bytes = await readFile(source);
    const meta = await sharp(bytes, { limitInputPixels: false })
      .metadata()
      .catch((error) => Promise.reject(invalid(error)));
    // Animated GIF and WebP: their first frame, as other readers take them.
    const pageCount = type === 'tiff' ? (meta.pages ?? 1) : 1;
    if (pageCount > limits.maxPages) {
      throw new ImageFailure('too_many_pages', `The TIFF has ${pageCount} pages; the limit is ${limits.maxPages} (MAX_PAGES).`);
    }
    const ifds = type === 'tiff' ? tiffDirectories(bytes) : [];
    const doc = await PDFDocument.create({ updateMetadata: false });
    doc.setProducer('ocr-service');
    const embedded: Embedding[] = [];
    for (let index = 0; index < pageCount; index++) {
      const pageMeta =
        pageCount === 1
          ? meta
          : await sharp(bytes, { page: index, limitInputPixels: false })
              .metadata()
              .catch((e) => Promise.reject(invalid(e)));
      embedded.push(await addPage(doc, bytes, type, index, pageMeta, ifds[index], limits));
    }
    await writeFile(target, await doc.save());
    return { ok: true, pageCount, embedded };
  } catch (error) {
    return { ok: false, ...imageFailure(error) };
  }
}

/** The TIFF's directories (tags only, no pixels); empty when utif cannot walk them (sharp decodes such a file alone). */
function tiffDirectories(bytes: Buffer): Record<string, number[]>[] {
  try {
    return UTIF.decode(bytes) as unknown as Record<string, number[]>[];
  } catch {
    return [];
  }
}

async function addPage(
  doc: PDFDocument,
  bytes: Buffer,
  type: ImageType,
  index: number,
  meta: Metadata,
  ifd: Record<string, number[]> | undefined,
  limits: ImagePdfLimits,
): Promise<Embedding> {
  checkSize(meta, index, limits.maxPixels);
  const { width, height } = meta;
  const orientation = meta.orientation ?? 1;
  const [dpiX, dpiY] = resolution(meta, ifd, limits.dpi);

  if (type === 'jpeg' && orientation in ROTATE) {
    const image = await doc.embedJpg(bytes).catch((error) => Promise.reject(invalid(error)));
    const page = doc.addPage([(width * 72) / dpiX, (height * 72) / dpiY]);
    page.drawImage(image, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
    page.setRotation(degrees(ROTATE[orientation]));
    // pdf-lib checks only the JPEG's header: decode it once, so that a truncated file fails here, named.
    await decode(bytes, index, meta, limits, false);
    return 'jpeg';
  }
  const g4 = ifd && orientation === 1 ? g4Strip(bytes, ifd) : null;
  if (g4) {
    // A decode proves the stream before it is copied unread.
    await decode(bytes, index, meta, limits, false);
    const stream = doc.context.stream(g4.data, {
      Type: 'XObject',
      Subtype: 'Image',
      Width: width,
      Height: height,
      ColorSpace: 'DeviceGray',
      BitsPerComponent: 1,
      Filter: 'CCITTFaxDecode',
      DecodeParms: { K: -1, Columns: width, Rows: height, BlackIs1: g4.blackIs1 },
    });
    placeXObject(doc, doc.context.register(stream), width, height, dpiX, dpiY);
    return 'ccitt';
  }

  // Decoded: turned as EXIF says (so the page is as displayed without /Rotate), flattened on white.
  const bilevel = isBilevel(meta, ifd);
  const sixteen = meta.depth === 'ushort' && !bilevel;
  const pixels = await decode(bytes, index, meta, limits, sixteen);
  const { info } = pixels;
  const grey = info.channels === 1;
  const bits = bilevel ? 1 : sixteen ? 16 : 8;
  const data = bilevel ? packBits(pixels.data, info.width, info.height) : bits === 16 ? bigEndian(pixels.data) : pixels.data;
  const swapped = orientation >= 5;
  const [dx, dy] = swapped ? [dpiY, dpiX] : [dpiX, dpiY];
  const stream = doc.context.stream(await deflateAsync(data), {
    Type: 'XObject',
    Subtype: 'Image',
    Width: info.width,
    Height: info.height,
    ColorSpace: grey ? 'DeviceGray' : 'DeviceRGB',
    BitsPerComponent: bits,
    Filter: 'FlateDecode',
  });
  placeXObject(doc, doc.context.register(stream), info.width, info.height, dx, dy);
  return 'flate';
}

/** An image page as the engine reads it: grey pixels as displayed, and the page's size in points (as in the PDF made by imageToPdf). */
export interface ImagePage {
  pixels: Uint8Array;
  width: number;
  height: number;
  widthPt: number;
  heightPt: number;
  /** A 1-bit image: its pixels are black and white. */
  bilevel: boolean;
}

/**
 * Page `index` of the image decoded by sharp (libvips, native: a receipt's JPEG in a fraction
 * of pdf.js' time), turned as EXIF says and flattened on white, in the luma of the render path.
 */
export async function imagePage(
  path: string,
  type: ImageType,
  index: number,
  limits: Omit<ImagePdfLimits, 'maxPages'>,
): Promise<ImagePage> {
  const bytes = await readFile(path);
  const meta = await sharp(bytes, { page: index, limitInputPixels: false }).metadata();
  const ifd = type === 'tiff' ? tiffDirectories(bytes)[index] : undefined;
  checkSize(meta, index, limits.maxPixels);
  const [dpiX, dpiY] = resolution(meta, ifd, limits.dpi);
  const swapped = (meta.orientation ?? 1) >= 5;
  const [widthPt, heightPt] = swapped
    ? [(meta.height * 72) / dpiY, (meta.width * 72) / dpiX]
    : [(meta.width * 72) / dpiX, (meta.height * 72) / dpiY];
  const { data, info } = await decode(bytes, index, meta, limits, false);
  const bilevel = isBilevel(meta, ifd);
  const { width, height } = info;
  return {
    pixels: info.channels === 1 ? data : greyPixels({ width, height, kind: KIND_RGB, data })!,
    width,
    height,
    widthPt,
    heightPt,
    bilevel,
  };
}

/** Refuses a page with no size or with more than OCR_MAX_PIXELS, from its header, before anything is decoded. */
function checkSize({ width, height }: Metadata, index: number, maxPixels: number) {
  if (!(width > 0 && height > 0)) throw new ImageFailure('image_invalid', `Page ${index + 1} of the image has no size.`);
  if (width * height > maxPixels) {
    throw new ImageFailure(
      'page_too_large',
      `Page ${index + 1} of the image is ${width} x ${height} pixels, more than OCR_MAX_PIXELS (${maxPixels}).`,
    );
  }
}

/** A black and white image: one channel of one bit (a TIFF's own tag, else what sharp read). */
const isBilevel = (meta: Metadata, ifd: Record<string, number[]> | undefined) =>
  (ifd?.t258?.[0] ?? meta.bitsPerSample) === 1 && meta.channels === 1;

/** Grey in, grey out: one channel (and maybe alpha), not CMYK. */
const isGrey = (meta: Metadata) => meta.channels !== undefined && meta.channels <= 2 && meta.space !== 'cmyk';

/** The page's resolution: a TIFF's own tags (which may differ per axis, as fax modes do), else what sharp read. */
function resolution(meta: Metadata, ifd: Record<string, number[]> | undefined, fallback: number): [number, number] {
  const rational = (tag: number[] | undefined) => (tag && tag.length ? tag[0] : undefined);
  let x = rational(ifd?.t282);
  let y = rational(ifd?.t283);
  if (x !== undefined && ifd?.t296?.[0] === 3) [x, y] = [x * 2.54, (y ?? x) * 2.54];
  if (x === undefined || ifd?.t296?.[0] === 1) [x, y] = [meta.density, meta.density];
  return resolutionOf(x, y, fallback);
}

/** A page whose pixels are one CCITT Group 4 stream, in PDF's bit order: its bytes, and the sense of its bits. */
function g4Strip(bytes: Buffer, ifd: Record<string, number[]>): { data: Buffer; blackIs1: boolean } | null {
  const [compression] = ifd.t259 ?? [];
  const offsets = ifd.t273 ?? [];
  const counts = ifd.t279 ?? [];
  const photometric = ifd.t262?.[0] ?? 0;
  // LSB-first fill order and uncompressed mode are TIFF's own; PDF readers would misread them.
  if (compression !== 4 || offsets.length !== 1 || counts.length !== 1 || ifd.t266?.[0] === 2 || (ifd.t293?.[0] ?? 0) & 2) return null;
  if (photometric > 1 || offsets[0] + counts[0] > bytes.length) return null;
  // The decoder gives 0 for white runs; with BlackIsZero (1) the TIFF shows them black.
  return { data: bytes.subarray(offsets[0], offsets[0] + counts[0]), blackIs1: photometric === 1 };
}

/** Page `page`'s pixels, raw: turned as EXIF says (as displayed, without /Rotate), flattened on white, grey or sRGB as `meta` is. */
async function decode(
  bytes: Buffer,
  page: number,
  meta: Metadata,
  limits: Pick<ImagePdfLimits, 'maxPixels' | 'timeoutSeconds'>,
  sixteen: boolean,
) {
  const grey = isGrey(meta);
  return sharp(bytes, { page, limitInputPixels: limits.maxPixels })
    .timeout({ seconds: limits.timeoutSeconds })
    .autoOrient()
    .flatten({ background: '#ffffff' })
    .toColourspace(sixteen ? (grey ? 'grey16' : 'rgb16') : grey ? 'b-w' : 'srgb')
    .raw({ depth: sixteen ? 'ushort' : 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((error) => Promise.reject(invalid(error)));
}

/** One grey byte per pixel to PDF's 1-bit rows (a set bit is white under DeviceGray). */
function packBits(grey: Buffer, width: number, height: number): Buffer {
  const stride = (width + 7) >> 3;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (grey[y * width + x] >= 128) out[y * stride + (x >> 3)] |= 128 >> (x & 7);
  }
  return out;
}

/** sharp's 16-bit samples are in the machine's order; PDF's are big-endian. */
function bigEndian(samples: Buffer): Buffer {
  const out = Buffer.from(samples);
  return out.swap16();
}

/** The image XObject drawn over a whole page of its size at its resolution. */
function placeXObject(doc: PDFDocument, ref: PDFRef, width: number, height: number, dpiX: number, dpiY: number) {
  const [w, h] = [(width * 72) / dpiX, (height * 72) / dpiY];
  const page: PDFPage = doc.addPage([w, h]);
  const name = page.node.newXObject('Im', ref);
  page.pushOperators(pushGraphicsState(), concatTransformationMatrix(w, 0, 0, h, 0, 0), drawObject(name), popGraphicsState());
}
