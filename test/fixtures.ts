/**
 * PDFs the tests make for themselves: nothing here comes from outside the repository.
 */
import { createCanvas, GlobalFonts, loadImage } from '@napi-rs/canvas';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import fontkit from '@pdf-lib/fontkit';
import { readFileSync } from 'node:fs';
import {
  beginText,
  degrees,
  drawObject,
  endText,
  moveText,
  PDFDocument,
  setFontAndSize,
  setTextRenderingMode,
  showText,
  StandardFonts,
  TextRenderingMode,
} from 'pdf-lib';

const FONT = 'Liberation Sans';
const FONT_FILE = join(dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts', 'LiberationSans-Regular.ttf');
GlobalFonts.registerFromPath(FONT_FILE, FONT);

export const SCANNED_LINES = ['The quick brown fox jumps over', 'the lazy dog near 42 green trees.'];
export const DIGITAL_LINES = ['Quarterly report for Acme Widgets', 'Revenue grew by 17 percent this year.'];

/** A picture of text at 300 dpi, as a scanner would produce it. */
export function textImagePng(lines: string[], widthIn = 6, heightIn = 2): Buffer {
  const canvas = createCanvas(Math.round(widthIn * 300), Math.round(heightIn * 300));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = 'black';
  ctx.font = `${lines.length > 10 ? 40 : 54}px "${FONT}"`;
  lines.forEach((line, i) => ctx.fillText(line, 90, 150 + i * 100, canvas.width - 180));
  return canvas.toBuffer('image/png');
}

/** The same picture turned by `degrees` (90 or 180), as a sheet fed into a scanner the wrong way. */
export async function turnedPng(png: Buffer, degrees: 90 | 180): Promise<Buffer> {
  const image = await loadImage(png);
  const canvas = degrees === 90 ? createCanvas(image.height, image.width) : createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.translate(canvas.width / 2, canvas.height / 2);
  ctx.rotate((degrees * Math.PI) / 180);
  ctx.drawImage(image, -image.width / 2, -image.height / 2);
  return canvas.toBuffer('image/png');
}

async function addImagePage(pdf: PDFDocument, lines: string[], turn?: 90 | 180) {
  const picture = textImagePng(lines);
  const png = await pdf.embedPng(turn ? await turnedPng(picture, turn) : picture);
  // 300 dpi image on a page of the same physical size: 1 px = 0.24 pt.
  const page = pdf.addPage([png.width * 0.24, png.height * 0.24]);
  page.drawImage(png, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
}

async function addTextPage(pdf: PDFDocument, lines: string[]) {
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const page = pdf.addPage([432, 144]);
  lines.forEach((line, i) => page.drawText(line, { x: 36, y: 100 - i * 24, size: 14, font }));
}

/** An image-only page: no text layer, so it must be OCR'd. */
export async function scannedPdf(pages = 1): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  for (let i = 0; i < pages; i++) await addImagePage(pdf, SCANNED_LINES);
  return Buffer.from(await pdf.save());
}

export const STALE_OCR_TEXT = 'Stale misread wrods';

/**
 * A two-page scan that an earlier OCR run made searchable, badly: an invisible text layer
 * (render mode 3) in page 1's own content, and in a form XObject on page 2, as OCRmyPDF
 * draws its layer.
 */
export async function previouslyOcrdScanPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < 2; i++) await addImagePage(pdf, SCANNED_LINES);
  const layer = (fontKey: string) => [
    beginText(),
    setFontAndSize(fontKey, 12),
    setTextRenderingMode(TextRenderingMode.Invisible),
    moveText(20, 40),
    showText(font.encodeText(STALE_OCR_TEXT)),
    endText(),
  ];
  const [first, second] = pdf.getPages();
  first.pushOperators(...layer(first.node.newFontDictionary('F1', font.ref).asString().slice(1)));
  const form = pdf.context.register(
    pdf.context.formXObject(layer('F1'), { BBox: [0, 0, second.getWidth(), second.getHeight()], Resources: { Font: { F1: font.ref } } }),
  );
  second.pushOperators(drawObject(second.node.newXObject('Fm1', form)));
  return Buffer.from(await pdf.save());
}

export const GERMAN_LINES = ['Die Straße führt über größere Brücken', 'zur schönen Mühle am Fluß.'];

/** An image-only page of German text, which needs the deu model to read its umlauts and ß. */
export async function germanScanPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  await addImagePage(pdf, GERMAN_LINES);
  return Buffer.from(await pdf.save());
}

/** A scanned page turned sideways and one upside down. */
export async function turnedScansPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  await addImagePage(pdf, SCANNED_LINES, 90);
  await addImagePage(pdf, SCANNED_LINES, 180);
  return Buffer.from(await pdf.save());
}

/** Born-digital pages with real text objects. */
export async function digitalPdf(pages = 1): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  for (let i = 0; i < pages; i++) await addTextPage(pdf, DIGITAL_LINES);
  return Buffer.from(await pdf.save());
}

/** A full letter-size page of scanned text: seconds of OCR, for time-limit tests. */
export async function denseScannedPdf(pages = 1): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const lines = Array.from({ length: 26 }, (_, i) => `${i + 1}. ${SCANNED_LINES.join(' ')}`);
  const png = await pdf.embedPng(textImagePng(lines, 8.5, 11));
  for (let i = 0; i < pages; i++) {
    const page = pdf.addPage([612, 792]);
    page.drawImage(png, { x: 0, y: 0, width: 612, height: 792 });
  }
  return Buffer.from(await pdf.save());
}

/** Page 1 born-digital, page 2 scanned. */
export async function mixedPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  await addTextPage(pdf, DIGITAL_LINES);
  await addImagePage(pdf, SCANNED_LINES);
  return Buffer.from(await pdf.save());
}

/** Greek and Cyrillic, which Liberation Sans covers: text beyond Latin-1 in a text layer. */
export const NON_LATIN_LINES = ['Ελληνικό κείμενο για δοκιμή', 'Русский текст для проверки'];

/**
 * What a scanner that knows which way up the sheet was makes of a landscape page: the
 * image stored sideways, and /Rotate turning it upright for display.
 */
async function addRotatedImagePage(pdf: PDFDocument, lines: string[]) {
  const png = await pdf.embedPng(await turnedPng(textImagePng(lines), 90));
  const page = pdf.addPage([png.width * 0.24, png.height * 0.24]);
  page.drawImage(png, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
  page.setRotation(degrees(270));
}

/** A text-layer page in an embedded TrueType font, so that its text is not limited to WinAnsi. */
async function addNonLatinTextPage(pdf: PDFDocument, lines: string[]) {
  pdf.registerFontkit(fontkit);
  const font = await pdf.embedFont(readFileSync(FONT_FILE));
  const page = pdf.addPage([432, 144]);
  lines.forEach((line, i) => page.drawText(line, { x: 36, y: 100 - i * 24, size: 14, font }));
}

/**
 * Every kind of page a searchable PDF must handle: born-digital, scanned, scanned and shown
 * through /Rotate, and born-digital in Greek and Cyrillic.
 */
export async function mixedKindsPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  await addTextPage(pdf, DIGITAL_LINES);
  await addImagePage(pdf, SCANNED_LINES);
  await addRotatedImagePage(pdf, SCANNED_LINES);
  await addNonLatinTextPage(pdf, NON_LATIN_LINES);
  return Buffer.from(await pdf.save());
}

/** The first part of a PDF, as an interrupted download leaves it. */
export async function truncatedPdf(): Promise<Buffer> {
  const whole = await scannedPdf();
  return whole.subarray(0, Math.floor(whole.length * 0.4));
}

function rc4(key: Buffer, data: Buffer): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i] + key[i % key.length]) & 255;
    [s[i], s[j]] = [s[j], s[i]];
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 255;
    j = (j + s[i]) & 255;
    [s[i], s[j]] = [s[j], s[i]];
    out[n] = data[n] ^ s[(s[i] + s[j]) & 255];
  }
  return out;
}

const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();
const PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');
const padded = (password: string) => Buffer.concat([Buffer.from(password, 'latin1'), PAD]).subarray(0, 32);

/**
 * A one-page PDF encrypted with the standard security handler (revision 2, RC4-40)
 * under a user password, written by hand because pdf-lib cannot encrypt.
 */
export function encryptedPdf(userPassword = 'secret', ownerPassword = 'owner'): Buffer {
  const id = createHash('md5').update('fixture').digest();
  const permissions = -4;
  const o = rc4(md5(padded(ownerPassword)).subarray(0, 5), padded(userPassword));
  const p = Buffer.alloc(4);
  p.writeInt32LE(permissions);
  const key = md5(padded(userPassword), o, p, id).subarray(0, 5);
  const u = rc4(key, PAD);
  const objectKey = (num: number) => md5(key, Buffer.from([num & 255, (num >> 8) & 255, (num >> 16) & 255, 0, 0])).subarray(0, 10);
  const content = rc4(objectKey(4), Buffer.from('BT /F1 18 Tf 36 100 Td (Top secret text) Tj ET'));

  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Filter /Standard /V 1 /R 2 /O <${o.toString('hex')}> /U <${u.toString('hex')}> /P ${permissions} >>`,
  ];
  const chunks: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let length = chunks[0].length;
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk =
      body === null
        ? Buffer.concat([
            Buffer.from(`${i + 1} 0 obj\n<< /Length ${content.length} >>\nstream\n`),
            content,
            Buffer.from('\nendstream\nendobj\n'),
          ])
        : Buffer.from(`${i + 1} 0 obj\n${body}\nendobj\n`);
    chunks.push(chunk);
    length += chunk.length;
  });
  const xref = [
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`,
    ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`),
  ].join('');
  const trailer = `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Encrypt 6 0 R /ID [<${id.toString('hex')}> <${id.toString('hex')}>] >>\nstartxref\n${length}\n%%EOF\n`;
  chunks.push(Buffer.from(xref + trailer));
  return Buffer.concat(chunks);
}
