import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { degrees, PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import type { Box, PageResult } from '../../contract/results';
import { greyPixels, multiply, placeImage, soleImage } from './own-pixels';

const FONT_FILE = join(dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts', 'LiberationSans-Regular.ttf');
GlobalFonts.registerFromPath(FONT_FILE, 'Liberation Sans');
const LINES = ['The quick brown fox jumps over', 'the lazy dog near 42 green trees.'];

/** Text drawn into a picture `width` x `height` pixels, as a scanner would give it. */
function textPng(width: number, height: number): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = 'black';
  ctx.font = '40px "Liberation Sans"';
  LINES.forEach((line, i) => ctx.fillText(line, 60, 110 + i * 80, width - 120));
  return canvas.toBuffer('image/png');
}

// The picture's 1200 x 400 pixels drawn at 200 dpi (432 x 144 pt), so the 300 dpi OCR scales it by 1.5.
const IMAGE = { x: 90, y: 400, width: 432, height: 144 };
const CROP = { x: 20, y: 30, width: 572, height: 740 };

/**
 * Page 1: the picture alone (Flate), on a page with /Rotate 90 and a crop box. Page 2: the same
 * with a line of real text. Page 3: page 1 with the picture as a JPEG (decoded by sharp, not pdf.js).
 */
async function fixture(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const picture = textPng(1200, 400);
  const png = await pdf.embedPng(picture);
  const jpeg = await pdf.embedJpg(await sharp(picture).jpeg({ quality: 92 }).toBuffer());
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const [image, withText] of [
    [png, false],
    [png, true],
    [jpeg, false],
  ] as const) {
    const page = pdf.addPage([612, 792]);
    page.setRotation(degrees(90));
    page.setCropBox(CROP.x, CROP.y, CROP.width, CROP.height);
    page.drawImage(image, IMAGE);
    if (withText) page.drawText('A caption in the text layer', { x: 100, y: 200, size: 14, font });
  }
  return Buffer.from(await pdf.save());
}

interface Read {
  raster: 'image' | 'render' | null;
  result: PageResult;
}

/**
 * pdf.task runs in the pool's threads and loads pdf.js (ESM only), which jest's module
 * system cannot import; so it is bundled as it is and run in a Node process of its own,
 * each page read once by each path.
 */
async function readBothWays(pdfPath: string, pages: number[], dir: string): Promise<{ image: Read; render: Read }[]> {
  const root = join(__dirname, '..', '..', '..');
  const runner = `
    const wt = require('node:worker_threads');
    const { rmSync, writeFileSync } = require('node:fs');
    const { findLanguageModels, findOsdModel, prepareLangPath } = require('./src/worker/ocr/tessdata');
    const modelDir = '/usr/share/tesseract-ocr/5/tessdata';
    const osd = findOsdModel(modelDir);
    const langPath = prepareLangPath(findLanguageModels(modelDir), osd);
    wt.workerData = { langPath, recyclePages: 100, warmUpLanguages: '', detectOrientation: osd !== null, maxImagePixels: 25e6 };
    const pdf = require('./src/worker/pdf/pdf.task');
    (async () => {
      await pdf.loaded;
      const out = [];
      for (const page of ${JSON.stringify(pages)}) {
        const read = {};
        for (const path of ['image', 'render']) {
          wt.workerData.ownPixels = path === 'image';
          const task = { path: ${JSON.stringify(pdfPath)}, page, languages: 'eng', ocr: 'always', dpi: 300, maxPixels: 25e6, minDpi: 50 };
          const outcome = await pdf.processPage(task);
          if (!outcome.ok) throw new Error(outcome.message);
          read[path] = { raster: outcome.raster, result: outcome.result };
        }
        out.push(read);
      }
      writeFileSync(${JSON.stringify(join(dir, 'out.json'))}, JSON.stringify(out));
      rmSync(langPath, { recursive: true, force: true });
      process.exit(0);
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const bundle = join(dir, 'runner.cjs');
  await build({
    stdin: { contents: runner, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    outfile: bundle,
    logLevel: 'silent',
  });
  await promisify(execFile)(process.execPath, [bundle], { cwd: root, env: { ...process.env, NODE_PATH: join(root, 'node_modules') } });
  return JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
}

const wordsOf = (r: PageResult) => r.lines.flatMap((l) => l.words);
const near = (a: Box, b: Box, tolerance: number) =>
  Math.max(Math.abs(a.x0 - b.x0), Math.abs(a.y0 - b.y0), Math.abs(a.x1 - b.x1), Math.abs(a.y1 - b.y1)) <= tolerance;

describe('OCR of a page from its own image', () => {
  let dir: string;
  let reads: { image: Read; render: Read }[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'own-pixels-'));
    const path = join(dir, 'fixture.pdf');
    writeFileSync(path, await fixture());
    reads = await readBothWays(path, [1, 2, 3], dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The page read from its image has the render's words, where they stand on the displayed page. */
  function expectAsRendered({ image, render }: { image: Read; render: Read }) {
    expect(image.raster).toBe('image');
    expect(render.raster).toBe('render');
    expect(image.result.text).toContain('quick brown fox');
    expect(image.result.text).toBe(render.result.text);
    // Displayed: the crop box turned by 90 degrees; the picture lands at x = user y - crop y, y = user x - crop x.
    expect([image.result.width, image.result.height]).toEqual([CROP.height, CROP.width]);
    const shown = { x0: IMAGE.y - CROP.y, y0: IMAGE.x - CROP.x, x1: IMAGE.y + IMAGE.height - CROP.y, y1: IMAGE.x + IMAGE.width - CROP.x };
    const imageWords = wordsOf(image.result);
    const renderWords = wordsOf(render.result);
    expect(imageWords.length).toBeGreaterThanOrEqual(12);
    expect(imageWords.length).toBe(renderWords.length);
    imageWords.forEach((word, i) => {
      expect(word.bbox.x0).toBeGreaterThanOrEqual(shown.x0 - 1);
      expect(word.bbox.x1).toBeLessThanOrEqual(shown.x1 + 1);
      expect(word.bbox.y0).toBeGreaterThanOrEqual(shown.y0 - 1);
      expect(word.bbox.y1).toBeLessThanOrEqual(shown.y1 + 1);
      expect(word.text).toBe(renderWords[i].text);
      expect(near(word.bbox, renderWords[i].bbox, 1.5)).toBe(true);
    });
    expect(image.result.rotation).toBe(render.result.rotation);
  }

  it('reads a page that is one image from the image, with the words where they stand on the displayed page', () => {
    expectAsRendered(reads[0]);
  });

  it('reads a page that is one JPEG from the JPEG as decoded natively, the same words in the same places', () => {
    expectAsRendered(reads[2]);
  });

  it('renders a page that has text beside its image', () => {
    const [, { image }] = reads;
    expect(image.raster).toBe('render');
    expect(image.result.text).toContain('caption');
  });
});

describe('soleImage', () => {
  const OPS = {
    save: 10,
    restore: 11,
    transform: 12,
    paintImageXObject: 85,
    setGState: 9,
    dependency: 1,
    beginText: 31,
    constructPath: 91,
  };

  it('finds the one image and the matrix it is drawn with', () => {
    const found = soleImage(
      [OPS.dependency, OPS.save, OPS.transform, OPS.transform, OPS.paintImageXObject, OPS.restore],
      [['img_p0_1'], null, [1, 0, 0, 1, 10, 20], [300, 0, 0, 400, 0, 0], ['img_p0_1', 1200, 1600], null],
      OPS,
    );
    expect(found).toEqual({ objId: 'img_p0_1', ctm: [300, 0, 0, 400, 10, 20] });
  });

  it.each([
    ['text', [OPS.beginText, OPS.paintImageXObject], [null, ['img', 1, 1]]],
    ['a path', [OPS.constructPath, OPS.paintImageXObject], [null, ['img', 1, 1]]],
    [
      'two images',
      [OPS.paintImageXObject, OPS.paintImageXObject],
      [
        ['a', 1, 1],
        ['b', 1, 1],
      ],
    ],
    ['an alpha', [OPS.setGState, OPS.paintImageXObject], [[[['ca', 0.5]]], ['img', 1, 1]]],
    ['no image', [OPS.save, OPS.restore], [null, null]],
  ])('leaves a page with %s to the renderer', (_what, fns, args) => {
    expect(soleImage(fns, args, OPS)).toBeNull();
  });

  it('accepts the graphics state scanners write', () => {
    const found = soleImage(
      [OPS.setGState, OPS.paintImageXObject],
      [
        [
          [
            ['SMask', false],
            ['BM', 'source-over'],
          ],
        ],
        ['img', 1, 1],
      ],
      OPS,
    );
    expect(found?.objId).toBe('img');
  });
});

describe('greyPixels and placeImage', () => {
  it('keeps 1-bit pixels black and white, a set bit white', () => {
    expect([...greyPixels({ width: 3, height: 2, kind: 1, data: new Uint8Array([0b10100000, 0b01000000]) })!]).toEqual([
      255, 0, 255, 0, 255, 0,
    ]);
  });

  it('places the image through its matrix and the view, white elsewhere', () => {
    // A 2 x 1 image drawn over user space [1, 3] x [0, 1] of a 4 x 1 page, y down as a viewport does.
    const view: [number, number, number, number, number, number] = [1, 0, 0, -1, 0, 1];
    const placed = placeImage(new Uint8Array([10, 20]), 2, 1, [2, 0, 0, 1, 1, 0], view, 4, 1)!;
    expect([...placed.pgm.subarray(placed.pgm.length - 4)]).toEqual([255, 10, 20, 255]);
    expect(multiply(view, [1, 0, 0, 1, 0, 0])).toEqual(view);
  });

  it('averages exactly the image pixels under each page pixel, whatever the rounding of the scale', () => {
    // A 2400 dpi scan on a 120 x 85.92 pt page, read at 300 dpi: 8 x 8 image pixels per page
    // pixel, where the scale's floating-point error once shifted some footprints by one pixel.
    const [iw, ih] = [4000, 2864];
    const pixels = new Uint8Array(iw * ih);
    // A checkerboard of 8 x 8 squares, each exactly under one page pixel.
    for (let v = 0; v < ih; v++) for (let u = 0; u < iw; u++) pixels[v * iw + u] = ((u >> 3) + (v >> 3)) & 1 ? 0 : 255;
    const scale = 300 / 72;
    const placed = placeImage(pixels, iw, ih, [120, 0, 0, 85.92, 0, 0], [scale, 0, 0, -scale, 0, 85.92 * scale], 500, 358)!;
    expect(new Set(placed.pgm.subarray(placed.pgm.length - 500 * 358))).toEqual(new Set([0, 255]));
  });

  it('copies an image that lies pixel for pixel on the page, so a 1-bit image stays black and white', () => {
    const view: [number, number, number, number, number, number] = [1, 0, 0, -1, 0, 2];
    // A 2 x 2 image on a 2 x 2 page at one pixel per point: no smoothing, whatever pdf.js' rule.
    const placed = placeImage(new Uint8Array([0, 255, 255, 0]), 2, 2, [2, 0, 0, 2, 0, 0], view, 2, 2)!;
    expect(placed.sampling).toBe('nearest');
    expect([...placed.pgm.subarray(placed.pgm.length - 4)]).toEqual([0, 255, 255, 0]);
  });

  it('smooths an image enlarged by at most 4/3, as pdf.js paints it, and keeps sharp edges past that', () => {
    const view: [number, number, number, number, number, number] = [1, 0, 0, -1, 0, 1];
    // A black and a white pixel over 2.5 page pixels (x1.25, smoothed: the middle one samples 0.7 of the way) and over 4 (x2, not).
    const smoothed = placeImage(new Uint8Array([0, 255]), 2, 1, [2.5, 0, 0, 1, 0, 0], view, 3, 1)!;
    expect([...smoothed.pgm.subarray(smoothed.pgm.length - 3)]).toEqual([0, 178, 255]);
    const sharp = placeImage(new Uint8Array([0, 255]), 2, 1, [4, 0, 0, 1, 0, 0], view, 4, 1)!;
    expect([...sharp.pgm.subarray(sharp.pgm.length - 4)]).toEqual([0, 0, 255, 255]);
    // Marked /Interpolate, it is smoothed at any scale.
    const interpolated = placeImage(new Uint8Array([0, 255]), 2, 1, [4, 0, 0, 1, 0, 0], view, 4, 1, true)!;
    expect([...interpolated.pgm.subarray(interpolated.pgm.length - 4)]).toEqual([0, 64, 191, 255]);
  });
});
