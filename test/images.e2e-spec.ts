/**
 * Images as inputs (PNG, JPEG, TIFF, WebP, GIF), made here with sharp and canvas: read as
 * pages, their searchable PDF holding the inputs' own pixels, checked with poppler and qpdf.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { scannedPdf, SCANNED_LINES, textImagePng } from './fixtures';
import { JobBody, Stack, startStack, waitForJob } from './harness';
import { bombPng } from './hostile-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'ocr-images-'));
let fileNumber = 0;

/** Runs a command line tool with the file `input` in place of INPUT; its stdout, or a failure with its stderr. */
function tool(command: string, args: string[], input: Buffer) {
  const file = join(dir, `input-${fileNumber++}`);
  writeFileSync(file, input);
  const run = spawnSync(
    command,
    args.map((a) => (a === 'INPUT' ? file : a)),
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`${command} failed: ${run.stderr}`);
  return run.stdout;
}

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim().toLowerCase();
const EXPECTED = normalise(SCANNED_LINES.join(' '));
/** The text read, close enough to the picture's: most of its words. */
function expectRead(text: string) {
  const words = EXPECTED.split(' ');
  const found = words.filter((w) => normalise(text).split(' ').includes(w));
  expect(found.length).toBeGreaterThanOrEqual(words.length - 2);
}

/** A picture of the test lines at 300 dpi (1800 x 600 px). */
const picture = () => textImagePng(SCANNED_LINES);
/** Strips of the picture, one line each and under 256 rows, so that libvips writes each TIFF page as one G4 strip. */
async function lineStrip(line: string) {
  return sharp(textImagePng([line], 6, 0.8))
    .png()
    .toBuffer();
}
async function g4Tiff(pages: number) {
  const lines = ['The quick brown fox', 'jumps over the lazy dog', 'near 42 green trees', 'and one more line'].slice(0, pages);
  const strips = await Promise.all(lines.map(lineStrip));
  return sharp(strips, { join: { animated: true } })
    .flatten({ background: '#ffffff' })
    .threshold(128)
    .toColourspace('b-w')
    .tiff({ compression: 'ccittfax4', bitdepth: 1, xres: 300 / 25.4, yres: 300 / 25.4 })
    .toBuffer();
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { MAX_PAGES: '3' } });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `file` as the raw body with `type`, or as a multipart part named `name`; the finished job. */
async function read(file: Buffer, name: string, type = 'application/octet-stream', raw = false): Promise<JobBody> {
  let res: Response;
  if (raw) {
    res = await fetch(`${stack.baseUrl}/v1/jobs`, { method: 'POST', body: file, headers: { 'Content-Type': type } });
  } else {
    const form = new FormData();
    form.append('file', new Blob([file], { type }), name);
    res = await fetch(`${stack.baseUrl}/v1/jobs`, { method: 'POST', body: form });
  }
  const body = (await res.json()) as JobBody;
  expect({ status: res.status, body }).toMatchObject({ status: 202 });
  return waitForJob(stack.baseUrl, body.id);
}

async function fullResult(id: string) {
  const res = await fetch(`${stack.baseUrl}/v1/jobs/${id}/result?format=json`);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    pages: {
      width: number;
      height: number;
      dpi: number;
      text: string;
      lines: { words: { text: string; confidence: number; bbox: { x0: number; y0: number; x1: number; y1: number } }[] }[];
    }[];
  };
}

async function searchablePdf(id: string) {
  const res = await fetch(`${stack.baseUrl}/v1/jobs/${id}/result?format=pdf`);
  expect(res.status).toBe(200);
  const pdf = Buffer.from(await res.arrayBuffer());
  tool('qpdf', ['--check', 'INPUT'], pdf);
  return pdf;
}

/** `pdfimages -list`: one row per image, [page, width, height, color, bpc, enc]. */
const imagesOf = (pdf: Buffer) =>
  tool('pdfimages', ['-list', 'INPUT'], pdf)
    .trim()
    .split('\n')
    .slice(2)
    .map((row) => row.trim().split(/\s+/))
    .map(([page, , , width, height, color, , bpc, enc]) => ({
      page: Number(page),
      width: Number(width),
      height: Number(height),
      color,
      bpc,
      enc,
    }));

/** Every word's box inside its page as displayed. */
function expectBoxesInside(page: {
  width: number;
  height: number;
  lines: { words: { bbox: { x0: number; y0: number; x1: number; y1: number } }[] }[];
}) {
  const words = page.lines.flatMap((l) => l.words);
  expect(words.length).toBeGreaterThan(3);
  for (const { bbox } of words) {
    expect(bbox.x0).toBeGreaterThanOrEqual(0);
    expect(bbox.y0).toBeGreaterThanOrEqual(0);
    expect(bbox.x1).toBeLessThanOrEqual(page.width + 0.5);
    expect(bbox.y1).toBeLessThanOrEqual(page.height + 0.5);
  }
}

describe('images as inputs', () => {
  it('reads a JPEG turned by EXIF orientation 6 as displayed, and embeds its bytes unchanged', async () => {
    // Stored lying on its side (turned counter-clockwise); orientation 6 says to show it turned clockwise.
    const stored = await sharp(picture()).rotate(-90).jpeg({ quality: 92 }).toBuffer();
    const jpeg = await sharp(stored).withMetadata({ orientation: 6, density: 300 }).jpeg({ quality: 92 }).toBuffer();
    const job = await read(jpeg, 'photo.jpg', 'image/jpeg');
    expect(job.status).toBe('completed');
    const { pages } = await fullResult(job.id);
    expect(pages).toHaveLength(1);
    expectRead(pages[0].text);
    // As displayed: landscape, 1800 x 600 px at 300 dpi.
    expect([pages[0].width, pages[0].height]).toEqual([432, 144]);
    expect(pages[0].dpi).toBe(300);
    expectBoxesInside(pages[0]);

    const pdf = await searchablePdf(job.id);
    expect(imagesOf(pdf)).toEqual([expect.objectContaining({ width: 600, height: 1800, enc: 'jpeg' })]);
    const out = join(dir, `extracted-${fileNumber++}`);
    tool('pdfimages', ['-all', 'INPUT', out], pdf);
    expect(readFileSync(`${out}-000.jpg`).equals(jpeg)).toBe(true);
    const words = tool('pdftotext', ['-bbox', 'INPUT', '-'], pdf);
    expect(words).toMatch(/>quick</);
    // The invisible word sits where the engine saw it, on the page as shown.
    const [, x0, y0] = /<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>quick</.exec(words)!.map(Number);
    const quick = pages[0].lines.flatMap((l) => l.words).find((w) => w.text === 'quick')!;
    expect(Math.abs(x0 - quick.bbox.x0)).toBeLessThan(4);
    expect(Math.abs(y0 - quick.bbox.y0)).toBeLessThan(6);
  }, 120_000);

  it('reads every page of a G4 TIFF and embeds each page as CCITT, unchanged', async () => {
    const tiff = await g4Tiff(3);
    const job = await read(tiff, 'fax.tif', 'image/tiff', true);
    expect(job.status).toBe('completed');
    const { pages } = await fullResult(job.id);
    expect(pages.map((p) => normalise(p.text))).toEqual(['the quick brown fox', 'jumps over the lazy dog', 'near 42 green trees']);
    for (const page of pages) expect(page.dpi).toBe(300);
    const pdf = await searchablePdf(job.id);
    expect(imagesOf(pdf)).toEqual(
      [1, 2, 3].map((page) => expect.objectContaining({ page, width: 1800, height: 240, color: 'gray', bpc: '1', enc: 'ccitt' })),
    );
    expect(normalise(tool('pdftotext', ['INPUT', '-'], pdf))).toContain('jumps over the lazy dog');
  }, 120_000);

  it('reads a 16-bit grey PNG with alpha, a CMYK JPEG, a WebP and a GIF', async () => {
    const png16 = await sharp(picture()).toColourspace('grey16').ensureAlpha(0.95).png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const cmyk = await sharp(picture()).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const webp = await sharp(picture()).webp({ quality: 90 }).toBuffer();
    const gif = await sharp(picture()).gif().toBuffer();
    const jobs = await Promise.all([
      read(png16, 'grey.png', 'image/png'),
      read(cmyk, 'cmyk.jpg', 'image/jpeg'),
      read(webp, 'shot.webp', 'image/webp'),
      read(gif, 'anim.gif', 'image/gif'),
    ]);
    for (const job of jobs) expect({ status: job.status, error: job.error }).toEqual({ status: 'completed', error: null });
    const [grey, jpeg] = await Promise.all(jobs.map((job) => fullResult(job.id)));
    for (const result of await Promise.all(jobs.map((job) => fullResult(job.id)))) {
      expectRead(result.pages[0].text);
      expectBoxesInside(result.pages[0]);
    }
    // Images without a resolution are taken at OCR_DPI: the same page size as the 300-dpi ones.
    expect([grey.pages[0].width, jpeg.pages[0].width]).toEqual([432, 432]);
    const [pngPdf, cmykPdf] = await Promise.all([searchablePdf(jobs[0].id), searchablePdf(jobs[1].id)]);
    expect(imagesOf(pngPdf)).toEqual([expect.objectContaining({ width: 1800, height: 600, color: 'gray', bpc: '16', enc: 'image' })]);
    expect(imagesOf(cmykPdf)).toEqual([expect.objectContaining({ width: 1800, height: 600, color: 'cmyk', enc: 'jpeg' })]);
  }, 180_000);

  it('goes by the bytes: a JPEG named .pdf is an image, a PDF named .png a PDF, HTML named .png is refused', async () => {
    const jpeg = await sharp(picture()).jpeg().toBuffer();
    const [asPdf, pdfAsPng] = await Promise.all([
      read(jpeg, 'photo.pdf', 'application/pdf', true),
      read(await scannedPdf(), 'scan.png', 'image/png'),
    ]);
    for (const job of [asPdf, pdfAsPng]) {
      expect(job.status).toBe('completed');
      expectRead(job.result!.text);
    }
    const form = new FormData();
    form.append('file', new Blob(['<!doctype html><html><body>not an image</body></html>'], { type: 'image/png' }), 'page.png');
    const res = await fetch(`${stack.baseUrl}/v1/jobs`, { method: 'POST', body: form });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('unsupported_media_type');
    expect(body.message).toContain('image/tiff');
  }, 120_000);

  it('fails a decompression bomb, a truncated image and a TIFF over MAX_PAGES with their codes, and goes on reading', async () => {
    const bomb = bombPng();
    expect(bomb.length).toBeLessThan(1100);
    const jpeg = await sharp(picture()).jpeg().toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    const [bombJob, truncatedJob, longJob, good] = await Promise.all([
      read(bomb, 'bomb.png', 'image/png'),
      read(truncated, 'cut.jpg', 'image/jpeg'),
      read(await g4Tiff(4), 'long.tif', 'image/tiff'),
      read(await sharp(picture()).png().toBuffer(), 'fine.png', 'image/png'),
    ]);
    expect(bombJob.error?.code).toBe('page_too_large');
    expect(truncatedJob.error?.code).toBe('image_invalid');
    expect(longJob.error).toEqual(expect.objectContaining({ code: 'too_many_pages' }));
    expect(longJob.error!.message).toContain('4 pages');
    expect(good.status).toBe('completed');
    expectRead(good.result!.text);
    // Nothing took the worker down.
    expect(stack.workers[0].child.exitCode).toBeNull();
  }, 120_000);
});
