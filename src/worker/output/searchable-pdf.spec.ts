import { degrees, fill, PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef, rectangle, scale, StandardFonts } from 'pdf-lib';
import { inflateSync } from 'node:zlib';
import type { PageResult } from '../../contract/results';
import { glyphlessFont } from './glyphless-font';
import { displayToUser, searchablePdf, SearchablePdfError } from './searchable-pdf';

const apply = ([a, b, c, d, e, f]: number[], x: number, y: number) => [a * x + c * y + e, b * x + d * y + f];

function ocrPage(page: number, text: string, fields: Partial<PageResult> = {}): PageResult {
  const bbox = { x0: 10, y0: 10, x1: 100, y1: 30 };
  return {
    page,
    source: 'ocr',
    text,
    confidence: 90,
    width: 200,
    height: 100,
    rotation: 0,
    rotationMethod: 'confident-read',
    readMethod: 'otsu',
    noiseFilter: { droppedWords: 0, overruled: false },
    dpi: 300,
    language: 'eng',
    lines: [{ text, confidence: 90, bbox, block: 1, paragraph: 1, words: [{ text, confidence: 90, bbox }] }],
    ...fields,
  };
}

const streamText = (doc: PDFDocument, ref: PDFRef) => {
  const stream = doc.context.lookup(ref) as PDFRawStream;
  const bytes = stream.dict.get(PDFName.of('Filter')) ? inflateSync(stream.contents) : Buffer.from(stream.contents);
  return bytes.toString('latin1');
};

describe('displayToUser', () => {
  // The displayed page's top-left corner is (0, height shown) with y up.
  it.each([
    [0, [0, 100], [0, 100]],
    [90, [0, 200], [0, 0]],
    [180, [0, 100], [200, 0]],
    [270, [0, 200], [200, 100]],
  ])('with /Rotate %i maps the shown top-left corner to the right corner of the stored page', (rotate, shown, stored) => {
    const matrix = displayToUser(rotate as number, { x: 0, y: 0, width: 200, height: 100 });
    expect(apply(matrix, shown[0], shown[1])).toEqual(stored);
  });

  it('accounts for a crop box that does not start at the origin', () => {
    expect(apply(displayToUser(0, { x: 20, y: 10, width: 200, height: 100 }), 0, 0)).toEqual([20, 10]);
  });
});

describe('glyphlessFont', () => {
  it('is a TrueType font whose checksums add up, with two glyphs', () => {
    const font = glyphlessFont();
    let sum = 0;
    for (let i = 0; i < font.length; i += 4) sum = (sum + font.readUInt32BE(i)) >>> 0;
    expect(sum).toBe(0xb1b0afba);
    const tables = new Map<string, number>();
    for (let i = 0; i < font.readUInt16BE(4); i++)
      tables.set(font.toString('latin1', 12 + i * 16, 16 + i * 16), font.readUInt32BE(20 + i * 16));
    expect([...tables.keys()]).toEqual(['OS/2', 'cmap', 'glyf', 'head', 'hhea', 'hmtx', 'loca', 'maxp', 'name', 'post']);
    expect(font.readUInt16BE(tables.get('maxp')! + 4)).toBe(2);
  });
});

describe('searchablePdf', () => {
  async function source() {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage([200, 100]).drawText('Born digital', { x: 10, y: 50, font, size: 12 });
    // A stand-in for a scan, which leaves its graphics state changed behind it.
    doc.addPage([200, 100]).pushOperators(scale(2, 2), rectangle(0, 0, 50, 20), fill());
    const turned = doc.addPage([100, 200]);
    turned.setRotation(degrees(90));
    return { bytes: await doc.save(), doc };
  }

  it('adds invisible text over OCR pages only, with a ToUnicode map that keeps any character', async () => {
    const { bytes, doc: before } = await source();
    const output = await searchablePdf(bytes, [
      { ...ocrPage(1, 'Born digital'), source: 'text', confidence: null, dpi: null, language: null },
      ocrPage(2, 'Ωμέγα'),
      ocrPage(3, '𝔘x'),
    ]);
    const doc = await PDFDocument.load(output);
    expect(doc.getPageCount()).toBe(3);
    const [first, second, third] = doc.getPages();
    expect(first.node.Contents()?.toString()).toBe(before.getPages()[0].node.Contents()?.toString());
    expect(doc.getPages().map((p) => [p.getWidth(), p.getHeight(), p.getRotation().angle])).toEqual([
      [200, 100, 0],
      [200, 100, 0],
      [100, 200, 90],
    ]);

    const contents = (page: typeof second) => (page.node.Contents() as PDFArray).asArray() as PDFRef[];
    const layer = streamText(doc, contents(second).at(-1)!);
    expect(layer).toMatch(/^q\n1 0 0 1 0 0 cm\nBT\n3 Tr\n/);
    expect(layer).toContain('<00010002000300040005> Tj');
    // The page's own content is wrapped in q ... Q so its graphics state cannot move the words.
    expect(streamText(doc, contents(second)[0]).trim()).toBe('q');
    // On the turned page the words are drawn in the shown page's coordinates, mapped back.
    expect(streamText(doc, contents(third).at(-1)!)).toMatch(/^q\n0 1 -1 0 100 0 cm\n/);

    const fonts = second.node.Resources()!.lookup(PDFName.of('Font'), PDFDict);
    const type0 = doc.context.lookup(fonts.values()[0], PDFDict);
    expect(type0.get(PDFName.of('Subtype'))).toBe(PDFName.of('Type0'));
    const toUnicode = streamText(doc, type0.get(PDFName.of('ToUnicode')) as PDFRef);
    expect(toUnicode).toContain('<0001> <03A9>');
    expect(toUnicode).toContain('<0006> <D835DD18>');
  });

  it.each([
    // rotation, box (shown page, y down), text matrix: direction, then baseline origin (y up)
    [0, { x0: 10, y0: 10, x1: 100, y1: 30 }, /1 0 0 1 10 70\.02 Tm/],
    [90, { x0: 10, y0: 10, x1: 30, y1: 90 }, /0 1 -1 0 29\.98 10 Tm/],
    [180, { x0: 10, y0: 10, x1: 100, y1: 30 }, /-1 0 0 -1 100 89\.98 Tm/],
    [270, { x0: 10, y0: 10, x1: 30, y1: 90 }, /0 -1 1 0 10\.02 90 Tm/],
  ])('runs the words of a page whose text was turned by %i degrees along their boxes', async (rotation, bbox, matrix) => {
    const { bytes } = await source();
    const page = ocrPage(2, 'Sideways', { rotation: rotation as PageResult['rotation'] });
    page.lines = [{ ...page.lines[0], bbox, words: [{ ...page.lines[0].words[0], bbox }] }];
    const doc = await PDFDocument.load(await searchablePdf(bytes, [page]));
    const contents = (doc.getPages()[1].node.Contents() as PDFArray).asArray() as PDFRef[];
    expect(streamText(doc, contents.at(-1)!)).toMatch(matrix);
  });

  it("returns the upload as it was when no page was OCR'd", async () => {
    const { bytes } = await source();
    expect(await searchablePdf(bytes, [])).toBe(bytes);
  });

  it('refuses what is not a PDF', async () => {
    await expect(searchablePdf(Buffer.from('not a pdf'), [ocrPage(1, 'x')])).rejects.toThrow(SearchablePdfError);
  });
});
