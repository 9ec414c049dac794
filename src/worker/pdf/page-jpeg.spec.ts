import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { degrees, PDFDocument, PDFName, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { pageJpeg, soleDo } from './page-jpeg';

describe('soleDo', () => {
  it('finds the one image of a q/cm/Do/Q stream with its matrix', () => {
    expect(soleDo('q\n1 0 0 1 10 20 cm\n300 0 0 400 0 0 cm\n/Im0 Do\nQ\n')).toEqual({ name: 'Im0', ctm: [300, 0, 0, 400, 10, 20] });
    expect(soleDo('q 224.88 0 0 347.76 0.0000 -0 cm /Image-7 Do Q % made by a scanner')?.name).toBe('Image-7');
  });

  it.each([
    ['text', 'BT /F1 12 Tf (hello) Tj ET q 100 0 0 100 0 0 cm /Im0 Do Q'],
    ['a path', '0 0 m 10 10 l S /Im0 Do'],
    ['a graphics state', '/GS0 gs /Im0 Do'],
    ['two images', '/Im0 Do /Im1 Do'],
    ['no image', 'q Q'],
    ['a malformed matrix', '1 0 0 cm /Im0 Do'],
  ])('has nothing to say about a stream with %s', (_what, content) => {
    expect(soleDo(content)).toBeNull();
  });
});

describe('pageJpeg', () => {
  let dir: string;
  let path: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'page-jpeg-'));
    const pdf = await PDFDocument.create();
    const picture = sharp({ create: { width: 300, height: 200, channels: 3, background: '#c0c0c0' } });
    const jpeg = await pdf.embedJpg(await picture.clone().jpeg().toBuffer());
    const grey = await pdf.embedJpg(await picture.clone().toColourspace('b-w').jpeg().toBuffer());
    const png = await pdf.embedPng(await picture.clone().png().toBuffer());
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    const add = (draw: (page: ReturnType<typeof pdf.addPage>) => void) => draw(pdf.addPage([612, 792]));
    add((page) => {
      page.setRotation(degrees(90));
      page.drawImage(jpeg, { x: 50, y: 60, width: 144, height: 96 });
    });
    add((page) => page.drawImage(grey, { x: 0, y: 0, width: 612, height: 792 }));
    add((page) => page.drawImage(png, { x: 0, y: 0, width: 612, height: 792 }));
    add((page) => {
      page.drawImage(jpeg, { x: 0, y: 0, width: 612, height: 792 });
      page.drawText('a text layer', { x: 10, y: 10, size: 12, font });
    });
    add((page) => {
      page.drawImage(jpeg, { x: 0, y: 0, width: 612, height: 792 });
      page.node.set(PDFName.of('Annots'), pdf.context.obj([pdf.context.obj({ Type: 'Annot', Subtype: 'Square', Rect: [0, 0, 9, 9] })]));
    });
    path = join(dir, 'pages.pdf');
    writeFileSync(path, await pdf.save());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the bytes, size and placement of a page that is one JPEG', async () => {
    const found = await pageJpeg(path, 1);
    expect(found).toMatchObject({ width: 300, height: 200, grey: false, interpolate: false });
    expect(found!.ctm).toEqual([144, 0, 0, 96, 50, 60]);
    expect((await sharp(found!.jpeg).metadata()).format).toBe('jpeg');
    expect(await pageJpeg(path, 2)).toMatchObject({ grey: true });
  });

  it('has nothing for a Flate image, a page with text or annotations, a page that is not there, or a file that is not a PDF', async () => {
    for (const page of [3, 4, 5, 6, 0]) expect(await pageJpeg(path, page)).toBeNull();
    const junk = join(dir, 'junk.pdf');
    writeFileSync(junk, 'not a pdf at all');
    expect(await pageJpeg(junk, 1)).toBeNull();
  });
});
