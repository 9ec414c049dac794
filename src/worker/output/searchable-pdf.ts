import { PDFDocument, PDFName, PDFPage, PDFString } from 'pdf-lib';
import type { PageResult } from '../../contract/results';
import { GLYPHLESS_ADVANCE, glyphlessFont } from './glyphless-font';
import { removeInvisibleText } from './invisible-text';

/** Why a searchable PDF cannot be made of an upload that was otherwise read. */
export class SearchablePdfError extends Error {}

/**
 * The uploaded PDF with an invisible text layer (render mode 3) over every OCR'd page, at
 * the recognised words' positions, so that selecting, searching and text extraction work.
 * Pages read from their own text layer, and pages not processed, keep their content as it
 * was. An OCR'd page loses any invisible text it had (an earlier OCR layer). The page's own content is wrapped in q/Q first so that whatever graphics state it
 * leaves behind does not move the words.
 */
export async function searchablePdf(original: Uint8Array, pages: PageResult[]): Promise<Uint8Array> {
  const doc = await PDFDocument.load(original, { updateMetadata: false, throwOnInvalidObject: false }).catch((error: Error) => {
    throw new SearchablePdfError(`The PDF could not be rewritten: ${error.message}`);
  });
  if (doc.isEncrypted) throw new SearchablePdfError('The PDF is encrypted; its text layer cannot be added without re-encrypting it.');
  const ocrPages = pages.filter((p) => p.source === 'ocr' && p.lines.length);
  if (!ocrPages.length) return original;

  const { context } = doc;
  const codes = new CodeMap();
  // The font's ToUnicode map lists the characters of every page, so it is written last.
  const font = context.nextRef();
  const docPages = doc.getPages();
  for (const result of ocrPages) {
    const page = docPages[result.page - 1];
    if (!page) continue;
    // An earlier OCR layer goes: the page would otherwise carry two.
    removeInvisibleText(page);
    page.node.normalize(); // wraps the page's own content in q ... Q
    const key = page.node.newFontDictionary('GlyphLessFont', font);
    page.node.addContentStream(context.register(context.flateStream(textLayer(page, result, key, codes))));
  }
  context.assign(font, glyphlessFontDict(doc, codes));
  return doc.save();
}

/** A 2x3 matrix [a b c d e f] as PDF's `cm` takes it. */
type Matrix = [number, number, number, number, number, number];

/**
 * From the page as displayed (x right, y up, origin at the bottom left of what a viewer
 * shows) to the page's own user space: undoes /Rotate and the crop box's offset. Word
 * boxes are measured on the displayed page (pdf.js' viewport), hence this.
 */
export function displayToUser(rotate: number, box: { x: number; y: number; width: number; height: number }): Matrix {
  const { x: x0, y: y0 } = box;
  const x1 = x0 + box.width;
  const y1 = y0 + box.height;
  switch (((rotate % 360) + 360) % 360) {
    case 90:
      return [0, 1, -1, 0, x1, y0];
    case 180:
      return [-1, 0, 0, -1, x1, y1];
    case 270:
      return [0, -1, 1, 0, x0, y1];
    default:
      return [1, 0, 0, 1, x0, y0];
  }
}

/** pdf.js shows the crop box clipped to the media box; so does this. */
function visibleBox(page: PDFPage) {
  const media = page.getMediaBox();
  const crop = page.getCropBox();
  const x = Math.max(media.x, crop.x);
  const y = Math.max(media.y, crop.y);
  const width = Math.min(media.x + media.width, crop.x + crop.width) - x;
  const height = Math.min(media.y + media.height, crop.y + crop.height) - y;
  return width > 0 && height > 0 ? { x, y, width, height } : media;
}

const num = (n: number) => (Math.round(n * 1000) / 1000).toString();

/**
 * The content stream drawing one page's words. Each word gets its own text matrix: its
 * baseline along the box's bottom edge (as the text runs: `rotation` says how the page's
 * text was turned), font size the box's height across the text, and horizontal scaling that
 * stretches the glyphs' advances to the box's length along it.
 */
function textLayer(page: PDFPage, result: PageResult, fontKey: PDFName, codes: CodeMap): string {
  const box = visibleBox(page);
  const rotate = page.getRotation().angle;
  const quarter = ((rotate % 360) + 360) % 360 === 90 || ((rotate % 360) + 360) % 360 === 270;
  const [shownWidth, shownHeight] = quarter ? [box.height, box.width] : [box.width, box.height];
  // Boxes were measured on the page pdf.js showed; if pdf-lib sees it a little differently, scale.
  const sx = result.width ? shownWidth / result.width : 1;
  const sy = result.height ? shownHeight / result.height : 1;
  const ops: string[] = ['q', `${displayToUser(rotate, box).map(num).join(' ')} cm`, 'BT', '3 Tr'];
  for (const line of result.lines) {
    for (const word of line.words) {
      const hex = codes.encode(word.text);
      const glyphs = hex.length / 4;
      if (!glyphs) continue;
      // In displayed coordinates with y up.
      const left = word.bbox.x0 * sx;
      const right = word.bbox.x1 * sx;
      const top = shownHeight - word.bbox.y0 * sy;
      const bottom = shownHeight - word.bbox.y1 * sy;
      const w = right - left;
      const h = top - bottom;
      if (w <= 0 || h <= 0) continue;
      // Direction of the text, and where its baseline starts, for each way the page was turned.
      const [cos, sin, x, y, along, across] =
        result.rotation === 90
          ? [0, 1, right, bottom, h, w]
          : result.rotation === 180
            ? [-1, 0, right, top, w, h]
            : result.rotation === 270
              ? [0, -1, left, top, h, w]
              : [1, 0, left, bottom, w, h];
      // The font reaches 1 unit below its baseline (descent -1/1000) and 1000 above.
      const size = across / 1.001;
      const lift = size / 1000;
      const stretch = (100 * along) / ((size * glyphs * GLYPHLESS_ADVANCE) / 1000);
      ops.push(
        `${fontKey.asString()} ${num(size)} Tf ${num(stretch)} Tz ${cos} ${sin} ${-sin} ${cos} ${num(x - sin * lift)} ${num(y + cos * lift)} Tm <${hex}> Tj`,
      );
    }
  }
  ops.push('ET', 'Q');
  return ops.join('\n') + '\n';
}

/**
 * Two-byte character codes for the document's invisible text, one per Unicode code point,
 * numbered from 1 as they first appear; the font's ToUnicode map turns them back into text.
 * Per document rather than Tesseract's code = UTF-16 unit, so characters beyond the Basic
 * Multilingual Plane survive too.
 */
class CodeMap {
  private readonly codes = new Map<string, number>();

  encode(text: string): string {
    let hex = '';
    for (const char of text) {
      let code = this.codes.get(char);
      if (code === undefined) {
        if (this.codes.size >= 0xfffe) continue;
        code = this.codes.size + 1;
        this.codes.set(char, code);
      }
      hex += code.toString(16).padStart(4, '0');
    }
    return hex;
  }

  get size() {
    return this.codes.size;
  }

  /** A ToUnicode CMap: bfchar blocks of at most 100 entries, as the format requires. */
  toUnicode(): string {
    const entries = [...this.codes].map(([char, code]) => `<${code.toString(16).padStart(4, '0')}> <${utf16Hex(char)}>`);
    const blocks: string[] = [];
    for (let i = 0; i < entries.length; i += 100) {
      const chunk = entries.slice(i, i + 100);
      blocks.push(`${chunk.length} beginbfchar\n${chunk.join('\n')}\nendbfchar`);
    }
    return [
      '/CIDInit /ProcSet findresource begin',
      '12 dict begin',
      'begincmap',
      '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
      '/CMapName /Adobe-Identity-UCS def',
      '/CMapType 2 def',
      '1 begincodespacerange',
      '<0000> <FFFF>',
      'endcodespacerange',
      ...blocks,
      'endcmap',
      'CMapName currentdict /CMap defineresource pop',
      'end',
      'end',
    ].join('\n');
  }
}

function utf16Hex(char: string): string {
  let hex = '';
  for (let i = 0; i < char.length; i++) hex += char.charCodeAt(i).toString(16).padStart(4, '0');
  return hex.toUpperCase();
}

/**
 * A Type 0 font over a CIDFontType2 whose CIDToGIDMap sends every code to glyph 1 of the
 * glyphless TrueType font (glyph 0 upsets Acrobat, Tesseract's notes say), with the
 * document's ToUnicode map.
 */
function glyphlessFontDict(doc: PDFDocument, codes: CodeMap) {
  const { context } = doc;
  const fontFile = glyphlessFont();
  const fontFileRef = context.register(context.flateStream(fontFile, { Length1: fontFile.length }));
  const descriptor = context.register(
    context.obj({
      Type: 'FontDescriptor',
      FontName: 'GlyphLessFont',
      Flags: 5,
      FontBBox: [0, 0, GLYPHLESS_ADVANCE, 1000],
      ItalicAngle: 0,
      Ascent: 1000,
      Descent: -1,
      CapHeight: 1000,
      StemV: 80,
      FontFile2: fontFileRef,
    }),
  );
  const cidToGid = Buffer.alloc((codes.size + 1) * 2);
  for (let code = 1; code <= codes.size; code++) cidToGid.writeUInt16BE(1, code * 2);
  const cidFont = context.register(
    context.obj({
      Type: 'Font',
      Subtype: 'CIDFontType2',
      BaseFont: 'GlyphLessFont',
      CIDSystemInfo: { Registry: PDFString.of('Adobe'), Ordering: PDFString.of('Identity'), Supplement: 0 },
      FontDescriptor: descriptor,
      CIDToGIDMap: context.register(context.flateStream(cidToGid)),
      DW: GLYPHLESS_ADVANCE,
    }),
  );
  const toUnicode = context.register(context.flateStream(codes.toUnicode()));
  return context.obj({
    Type: 'Font',
    Subtype: 'Type0',
    BaseFont: 'GlyphLessFont',
    Encoding: 'Identity-H',
    DescendantFonts: [cidFont],
    ToUnicode: toUnicode,
  });
}
