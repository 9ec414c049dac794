import { readFile, stat } from 'node:fs/promises';
import {
  decodePDFRawStream,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFNumber,
  PDFRawStream,
  PDFRef,
  type PDFObject,
  type PDFPageLeaf,
} from 'pdf-lib';
import { type Matrix, multiply } from './own-pixels';

/** A page that is one baseline JPEG and nothing else: its bytes as the PDF holds them, and where the page draws it. */
export interface PageJpeg {
  jpeg: Uint8Array;
  width: number;
  height: number;
  grey: boolean;
  /** The image's /Interpolate. */
  interpolate: boolean;
  /** Maps the image's unit square onto PDF user space, as soleImage() would find it. */
  ctm: Matrix;
}

// Larger files are left to pdf.js alone: pdf-lib holds a whole document in memory.
const MAX_FILE_BYTES = 64 * 1024 * 1024;

let cached: { path: string; doc: Promise<PDFDocument | null> } | null = null;

function openDocument(path: string): Promise<PDFDocument | null> {
  if (cached?.path === path) return cached.doc;
  const doc = (async () => {
    if ((await stat(path)).size > MAX_FILE_BYTES) return null;
    return PDFDocument.load(await readFile(path), { updateMetadata: false, throwOnInvalidObject: false });
  })().catch(() => null);
  cached = { path, doc };
  return doc;
}

/**
 * The JPEG of page `number` (1-based) when the page is exactly what img2pdf, OCRmyPDF and most
 * scanners write for a photographed or scanned page: a content stream of only `q`, `cm`, `Do`
 * and `Q` drawing one DCTDecode image XObject (8-bit grey or RGB, no mask, no /Decode), and no
 * annotations. Null for every other page, which pdf.js then reads as before. The JPEG's bytes
 * go to a native decoder instead of pdf.js' JavaScript one; sizes and placement are pdf.js'.
 */
export async function pageJpeg(path: string, number: number): Promise<PageJpeg | null> {
  const doc = await openDocument(path);
  if (!doc) return null;
  // pdf-lib throws on what pdf.js repairs or reads anyway (a broken page tree, say): those pages are pdf.js' to read.
  try {
    if (number < 1 || number > doc.getPageCount()) return null;
    const node = doc.getPage(number - 1).node;
    if (node.Annots()?.size()) return null;
    const drawn = soleDo(contentOf(node));
    if (!drawn) return null;
    const xobjects = node.Resources()?.lookupMaybe(PDFName.of('XObject'), PDFDict);
    const image = xobjects?.lookup(PDFName.of(drawn.name));
    return image instanceof PDFRawStream ? jpegOf(image, drawn.ctm) : null;
  } catch {
    return null;
  }
}

function contentOf(node: PDFPageLeaf): string {
  const contents = node.Contents();
  const streams = contents instanceof PDFArray ? contents.asArray().map((ref) => node.context.lookup(ref)) : [contents];
  return streams
    .map((stream) => {
      if (!(stream instanceof PDFRawStream)) throw new Error('not a stream');
      return Buffer.from(decodePDFRawStream(stream).decode()).toString('latin1');
    })
    .join('\n');
}

const TOKEN = /%[^\r\n]*|\/[^\s/[\]()<>{}%]*|[-+]?(?:\d+\.?\d*|\.\d+)|[A-Za-z'"*]+|\S/g;

/** The one image a content stream of only q, Q, cm and Do draws, with its matrix; null for anything else. */
export function soleDo(content: string): { name: string; ctm: Matrix } | null {
  const operands: string[] = [];
  const stack: Matrix[] = [];
  let ctm: Matrix = [1, 0, 0, 1, 0, 0];
  let found: { name: string; ctm: Matrix } | null = null;
  for (const [token] of content.matchAll(TOKEN)) {
    if (token.startsWith('%')) continue;
    if (token.startsWith('/') || /^[-+.\d]/.test(token)) {
      operands.push(token);
      continue;
    }
    if (token === 'q' && !operands.length) stack.push(ctm);
    else if (token === 'Q' && !operands.length) ctm = stack.pop() ?? ctm;
    else if (token === 'cm' && operands.length === 6 && operands.every((o) => !o.startsWith('/'))) {
      ctm = multiply(ctm, operands.map(Number) as Matrix);
    } else if (token === 'Do' && operands.length === 1 && operands[0].startsWith('/') && !found) {
      found = { name: operands[0].slice(1), ctm };
    } else return null;
    operands.length = 0;
  }
  return operands.length ? null : found;
}

function jpegOf(image: PDFRawStream, ctm: Matrix): PageJpeg | null {
  const dict = image.dict;
  const get = (key: string): PDFObject | undefined => {
    const value = dict.get(PDFName.of(key));
    return value instanceof PDFRef ? dict.context.lookup(value) : value;
  };
  const name = (value: PDFObject | undefined) => (value instanceof PDFName ? value.decodeText() : undefined);
  const number = (value: PDFObject | undefined) => (value instanceof PDFNumber ? value.asNumber() : undefined);
  const filter = get('Filter');
  const filters = filter instanceof PDFArray ? filter.asArray().map((f) => name(f)) : [name(filter)];
  if (name(get('Subtype')) !== 'Image' || filters.length !== 1 || filters[0] !== 'DCTDecode') return null;
  // Optional content (/OC) may hide the image; the rest would change its pixels.
  if (['DecodeParms', 'Decode', 'SMask', 'Mask', 'ImageMask', 'OC'].some((key) => get(key) !== undefined)) return null;
  if (number(get('BitsPerComponent')) !== 8) return null;
  const components = componentsOf(get('ColorSpace'), dict);
  const width = number(get('Width'));
  const height = number(get('Height'));
  if ((components !== 1 && components !== 3) || !width || !height) return null;
  const interpolate = get('Interpolate');
  return { jpeg: image.contents, width, height, grey: components === 1, interpolate: interpolate?.toString() === 'true', ctm };
}

/** 1 or 3 for DeviceGray, DeviceRGB or an ICC profile of as many components; null for anything else (CMYK, indexed, Lab...). */
function componentsOf(space: PDFObject | undefined, dict: PDFDict): number | null {
  if (space instanceof PDFName) return { DeviceGray: 1, DeviceRGB: 3 }[space.decodeText()] ?? null;
  if (!(space instanceof PDFArray) || space.size() !== 2) return null;
  const [family, profile] = [space.get(0), dict.context.lookup(space.get(1))];
  if (!(family instanceof PDFName) || family.decodeText() !== 'ICCBased' || !(profile instanceof PDFRawStream)) return null;
  const n = profile.dict.get(PDFName.of('N'));
  return n instanceof PDFNumber && (n.asNumber() === 1 || n.asNumber() === 3) ? n.asNumber() : null;
}
