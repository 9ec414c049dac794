/**
 * The outputs other tools read, checked with those tools: poppler (pdfinfo, pdftotext,
 * pdftoppm), qpdf and xmllint, against the ALTO 4.4 schema committed in test/schemas.
 */
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DIGITAL_LINES,
  mixedKindsPdf,
  NON_LATIN_LINES,
  previouslyOcrdScanPdf,
  scannedPdf,
  SCANNED_LINES,
  STALE_OCR_TEXT,
} from './fixtures';
import { Stack, startStack, upload, waitForJob } from './harness';

const SCHEMAS = join(__dirname, 'schemas');

/** xmllint's verdict on an ALTO document; the schema is committed, so its absence fails. */
function validateAlto(alto: string) {
  expect(existsSync(join(SCHEMAS, 'alto-4-4.xsd'))).toBe(true);
  return tool('xmllint', ['--noout', '--nonet', '--schema', join(SCHEMAS, 'alto-4-4.xsd')], alto, {
    XML_CATALOG_FILES: join(SCHEMAS, 'catalog.xml'),
  });
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
interface Page {
  page: number;
  source: 'text' | 'ocr';
  text: string;
  width: number;
  height: number;
  rotation: number;
  dpi: number | null;
  language: string | null;
  lines: { bbox: Box; words: { text: string; confidence: number | null; bbox: Box }[] }[];
}
interface FullResult {
  pageCount: number;
  text: string;
  pages: Page[];
}

const dir = mkdtempSync(join(tmpdir(), 'ocr-formats-'));
let fileNumber = 0;

/** Runs a command line tool on `input` (written to a file); its stdout, or a failure with its stderr. */
function tool(command: string, args: string[], input?: Buffer | string, env: Record<string, string> = {}) {
  const args2 = [...args];
  if (input !== undefined) {
    const file = join(dir, `input-${fileNumber++}`);
    writeFileSync(file, input);
    const at = args2.indexOf('INPUT');
    if (at >= 0) args2[at] = file;
    else args2.push(file);
  }
  const run = spawnSync(command, args2, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`${command} could not run (${run.error.message}); .ci/run installs it`);
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A digest of each page's pixels, rendered small by poppler. */
function renders(file: Buffer, pages: number): string[] {
  const prefix = join(dir, `render-${fileNumber++}`);
  expect(tool('pdftoppm', ['-r', '30', '-gray', 'INPUT', prefix], file).status).toBe(0);
  return Array.from({ length: pages }, (_, i) => tool('md5sum', [`${prefix}-${i + 1}.pgm`]).stdout.split(' ')[0]);
}

const words = (page: Page) => page.lines.flatMap((l) => l.words);
const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

/** Every `ocrx_word` of an hOCR file: its text and title properties. */
function hocrWords(hocr: string) {
  return [...hocr.matchAll(/<span class="ocrx_word" id="[^"]+" title="([^"]+)">([^<]*)<\/span>/g)].map((m) => ({
    text: m[2]
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'"),
    bbox: m[1]
      .match(/bbox (\d+) (\d+) (\d+) (\d+)/)!
      .slice(1)
      .map(Number),
    conf: m[1].match(/x_wconf (\d+)/)?.[1],
  }));
}

/** Words from `pdftotext -bbox` for one page, in points from the shown page's top-left corner. */
function pdfWords(pdf: Buffer, page: number) {
  const out = tool('pdftotext', ['-bbox', '-f', String(page), '-l', String(page), 'INPUT', '-'], pdf);
  expect(out.status).toBe(0);
  return [...out.stdout.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({
    text: m[5],
    box: { x0: Number(m[1]), y0: Number(m[2]), x1: Number(m[3]), y1: Number(m[4]) },
  }));
}

describe('result formats: searchable PDF, hOCR, ALTO, text, per page', () => {
  let stack: Stack;
  let original: Buffer;
  let id: string;
  let full: FullResult;

  beforeAll(async () => {
    stack = await startStack();
    original = await mixedKindsPdf();
    const { body } = await upload(stack.baseUrl, original, {}, 'Quarterly report – ü.pdf');
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    id = body.id;
    full = (await (await fetch(`${stack.baseUrl}/v1/jobs/${id}/result`)).json()) as FullResult;
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the mixed document as expected, with rotation, dpi and language per page', () => {
    expect(full.pages.map((p) => [p.page, p.source])).toEqual([
      [1, 'text'],
      [2, 'ocr'],
      [3, 'ocr'],
      [4, 'text'],
    ]);
    expect(full.pages[0]).toMatchObject({ rotation: 0, dpi: null, language: null });
    expect(full.pages[1]).toMatchObject({ rotation: 0, language: 'eng' });
    expect(full.pages[1].dpi).toBeGreaterThan(100);
    // Page 3 is stored sideways and shown upright through /Rotate: the result describes it as shown.
    expect(full.pages[2]).toMatchObject({ width: 432, height: 144 });
    for (const p of [1, 2]) expect(squash(full.pages[p].text)).toBe(SCANNED_LINES.join(' '));
    expect(full.pages[3].text).toBe(NON_LATIN_LINES.join('\n'));
  });

  it('chooses the format by ?format= or Accept, names the file after the upload, and refuses others with 406', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['?format=json', {}, 'application/json'],
      ['', {}, 'application/json'],
      ['?format=txt', {}, 'text/plain'],
      ['', { accept: 'text/plain' }, 'text/plain'],
      ['?format=hocr', {}, 'text/vnd.hocr+html'],
      ['', { accept: 'text/vnd.hocr+html' }, 'text/vnd.hocr+html'],
      ['', { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' }, 'text/vnd.hocr+html'],
      ['?format=alto', {}, 'application/alto+xml'],
      ['', { accept: 'application/alto+xml' }, 'application/alto+xml'],
      ['', { accept: 'application/xml' }, 'application/alto+xml'],
      ['?format=pdf', {}, 'application/pdf'],
      ['', { accept: 'application/pdf' }, 'application/pdf'],
    ];
    for (const [query, headers, type] of cases) {
      const { res, body } = await get(`${stack.baseUrl}/v1/jobs/${id}/result${query}`, headers);
      expect([query, headers, res.status, res.headers.get('content-type')?.split(';')[0]]).toEqual([query, headers, 200, type]);
      expect(Number(res.headers.get('content-length'))).toBe(body.length);
      expect(res.headers.get('etag')).toBeTruthy();
    }
    const extensions = { json: 'json', txt: 'txt', hocr: 'hocr', alto: 'alto.xml', pdf: 'pdf' };
    for (const [format, extension] of Object.entries(extensions)) {
      const res = await fetch(`${stack.baseUrl}/v1/jobs/${id}/result?format=${format}`);
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="Quarterly report ? ü.${extension}"; filename*=UTF-8''Quarterly%20report%20%E2%80%93%20%C3%BC.${extension}`,
      );
    }

    for (const [query, headers] of [
      ['?format=docx', {}],
      ['', { accept: 'image/png' }],
    ] as const) {
      const res = await fetch(`${stack.baseUrl}/v1/jobs/${id}/result${query}`, { headers });
      expect(res.status).toBe(406);
      const error = (await res.json()) as { code: string; message: string };
      expect(error.code).toBe('format_not_supported');
      for (const format of ['json', 'txt', 'hocr', 'alto', 'pdf']) expect(error.message).toContain(format);
    }
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const url = `${stack.baseUrl}/v1/jobs/${id}/result?format=pdf`;
    const first = await fetch(url);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    // Not fetch(): with If-None-Match it also sends Cache-Control: no-cache, which asks for a full answer.
    const status = (headers: Record<string, string>) =>
      new Promise<number | undefined>((resolve, reject) =>
        httpGet(url, { headers }, (res) => {
          res.resume();
          resolve(res.statusCode);
        }).on('error', reject),
      );
    expect(await status({ 'if-none-match': etag })).toBe(304);
    expect(await status({ 'if-none-match': '"something-else"' })).toBe(200);
  });

  it('gives the text with pages separated by form feeds', async () => {
    const { body } = await get(`${stack.baseUrl}/v1/jobs/${id}/result?format=txt`);
    const pages = body.toString('utf8').split('\f');
    expect(pages).toHaveLength(4);
    expect(pages[0]).toBe(DIGITAL_LINES.join('\n'));
    expect(pages.map((p, i) => p === full.pages[i].text)).toEqual([true, true, true, true]);
  });

  it('gives well-formed hOCR: one ocr_page per page, a word element per word, boxes inside the page', async () => {
    const { body } = await get(`${stack.baseUrl}/v1/jobs/${id}/result?format=hocr`);
    const hocr = body.toString('utf8');
    const wellFormed = tool('xmllint', ['--noout', '--nonet'], hocr);
    expect(wellFormed.stderr).toBe('');
    expect(hocr).toMatch(/<meta name="ocr-system" content="ocr-service [^"]+"\/>/);
    expect(hocr).toMatch(/<meta name="ocr-capabilities" content="[^"]*ocr_page ocr_carea ocr_par ocr_line ocrx_word[^"]*"\/>/);

    const pages = hocr.split('<div class="ocr_page"').slice(1);
    expect(pages).toHaveLength(4);
    pages.forEach((html, i) => {
      const page = full.pages[i];
      const scale = (page.dpi ?? 72) / 72;
      const [, , , width, height] = html.match(/bbox (\d+) (\d+) (\d+) (\d+); ppageno (\d+); scan_res (\d+) (\d+)/)!.map(Number);
      expect(html).toContain(`ppageno ${page.page - 1}; scan_res ${Math.round(page.dpi ?? 72)}`);
      expect(width).toBe(Math.round(page.width * scale));
      expect(height).toBe(Math.round(page.height * scale));
      for (const cls of ['ocr_carea', 'ocr_par', 'ocr_line']) expect(html).toContain(`class="${cls}"`);
      const found = hocrWords(html);
      expect(found.map((w) => w.text)).toEqual(words(page).map((w) => w.text));
      for (const word of found) {
        const [x0, y0, x1, y1] = word.bbox;
        expect(0 <= x0 && x0 < x1 && x1 <= width && 0 <= y0 && y0 < y1 && y1 <= height).toBe(true);
        // Recognised words carry their confidence; words from a text layer have none to give.
        expect(word.conf === undefined).toBe(page.source === 'text');
      }
    });
  });

  it('gives ALTO 4.4 that validates against the schema, in pixels, with word confidence', async () => {
    const { body } = await get(`${stack.baseUrl}/v1/jobs/${id}/result?format=alto`);
    const alto = body.toString('utf8');
    expect(alto).toContain('<MeasurementUnit>pixel</MeasurementUnit>');
    expect(alto.match(/<Page /g)).toHaveLength(4);
    expect(alto.match(/<String /g)).toHaveLength(full.pages.reduce((n, p) => n + words(p).length, 0));
    const confidences = [...alto.matchAll(/ WC="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(confidences).toHaveLength(words(full.pages[1]).length + words(full.pages[2]).length);
    for (const wc of confidences) expect(wc >= 0 && wc <= 1).toBe(true);
    expect(alto).toContain('CONTENT="Ελληνικό"');

    const valid = validateAlto(alto);
    expect(valid.stderr.trim()).toMatch(/ validates$/);
    expect(valid.status).toBe(0);
  });

  it('gives the PDF made searchable: same pages, same look, the OCR text where the words are, text-layer pages untouched', async () => {
    const { res, body: pdf } = await get(`${stack.baseUrl}/v1/jobs/${id}/result?format=pdf`);
    expect(res.status).toBe(200);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const check = tool('qpdf', ['--check'], pdf);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);

    const info = (file: Buffer) =>
      tool('pdfinfo', ['-f', '1', '-l', '99', 'INPUT'], file).stdout.match(/^(Pages|Page +\d+ (size|rot)):.*$/gm);
    expect(info(pdf)).toEqual(info(original));

    // Visually unchanged: every page renders to the same pixels.
    expect(renders(pdf, 4)).toEqual(renders(original, 4));

    const pageText = (file: Buffer, n: number) => tool('pdftotext', ['-f', String(n), '-l', String(n), 'INPUT', '-'], file).stdout;
    expect(squash(pageText(original, 2))).toBe('');
    expect(squash(pageText(pdf, 1))).toBe(squash(pageText(original, 1)));
    expect(squash(pageText(pdf, 1))).toBe(DIGITAL_LINES.join(' '));
    expect(squash(pageText(pdf, 2))).toBe(squash(full.pages[1].text));
    expect(squash(pageText(pdf, 3))).toBe(squash(full.pages[2].text));
    expect(squash(pageText(pdf, 4))).toBe(NON_LATIN_LINES.join(' '));

    // Each recognised word is found inside its box, on the page as shown (page 3 through /Rotate).
    for (const n of [2, 3]) {
      const expected = words(full.pages[n - 1]);
      const found = pdfWords(pdf, n);
      expect(found.map((w) => w.text)).toEqual(expected.map((w) => w.text));
      found.forEach(({ box }, i) => {
        const want = expected[i].bbox;
        const slack = 0.5;
        expect([box.x0 >= want.x0 - slack, box.y0 >= want.y0 - slack, box.x1 <= want.x1 + slack, box.y1 <= want.y1 + slack]).toEqual([
          true,
          true,
          true,
          true,
        ]);
        expect(box.x1 - box.x0).toBeGreaterThan((want.x1 - want.x0) * 0.9);
      });
    }
  });

  it('gives one page as JSON, text, hOCR or ALTO, and 404 for a page the job does not have', async () => {
    const json = await fetch(`${stack.baseUrl}/v1/jobs/${id}/pages/3`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toContain('filename="Quarterly report ? ü-p3.json"');
    expect(await json.json()).toEqual(full.pages[2]);

    const text = await get(`${stack.baseUrl}/v1/jobs/${id}/pages/4?format=txt`);
    expect(text.body.toString('utf8')).toBe(NON_LATIN_LINES.join('\n'));

    const hocr = (await get(`${stack.baseUrl}/v1/jobs/${id}/pages/2`, { accept: 'text/vnd.hocr+html' })).body.toString('utf8');
    expect(hocr.match(/class="ocr_page"/g)).toHaveLength(1);
    expect(hocrWords(hocr).map((w) => w.text)).toEqual(words(full.pages[1]).map((w) => w.text));

    const alto = (await get(`${stack.baseUrl}/v1/jobs/${id}/pages/2?format=alto`)).body.toString('utf8');
    expect(alto.match(/<Page /g)).toHaveLength(1);
    expect(validateAlto(alto).status).toBe(0);

    expect((await fetch(`${stack.baseUrl}/v1/jobs/${id}/pages/2?format=pdf`)).status).toBe(406);
    for (const missing of ['5', '0', 'x']) {
      const res = await fetch(`${stack.baseUrl}/v1/jobs/${id}/pages/${missing}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('page_not_found');
    }
  });

  it('renders a page as a PNG at the fixed width that covers the one asked for, as the page is shown, once, then serves it from storage', async () => {
    const pngSize = (png: Buffer) => ({
      signature: png.subarray(0, 8).toString('hex'),
      width: png.readUInt32BE(16),
      height: png.readUInt32BE(20),
    });
    const url = (page: number, query = '') => `${stack.baseUrl}/v1/jobs/${id}/pages/${page}/image${query}`;

    // Page 3 is stored 144 x 432 pt and shown 432 x 144 through /Rotate: the image is as shown.
    // 600 is served at 1024, the smallest fixed width that is at least as wide, and says so.
    const first = await get(url(3, '?width=600'));
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('content-type')).toBe('image/png');
    expect(first.res.headers.get('image-width')).toBe('1024');
    expect(Number(first.res.headers.get('content-length'))).toBe(first.body.length);
    expect(pngSize(first.body)).toEqual({ signature: '89504e470d0a1a0a', width: 1024, height: 341 });

    // Text, not a blank page: the first line's words are dark where the JSON says they are.
    const image = await loadImage(first.body);
    const canvas = createCanvas(image.width, image.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(image, 0, 0);
    const k = 1024 / full.pages[2].width;
    const box = full.pages[2].lines[0].bbox;
    const { data } = ctx.getImageData(
      Math.floor(box.x0 * k),
      Math.floor(box.y0 * k),
      Math.ceil((box.x1 - box.x0) * k),
      Math.ceil((box.y1 - box.y0) * k),
    );
    let dark = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark++;
    expect(dark / (data.length / 4)).toBeGreaterThan(0.05);

    // Another width that snaps to 1024 is the same render: one stored file, one ETag.
    const again = await get(url(3, '?width=900'));
    expect(again.res.headers.get('image-width')).toBe('1024');
    expect(again.body.equals(first.body)).toBe(true);
    expect(again.res.headers.get('etag')).toBe(first.res.headers.get('etag'));
    const renders = () => readdirSync(join(stack.env.STORAGE_DIR, 'images', id)).filter((name) => name.startsWith('3-'));
    expect(renders()).toHaveLength(1);
    const small = await get(url(3, '?width=1'));
    expect([small.res.headers.get('image-width'), pngSize(small.body).width]).toEqual(['256', 256]);
    expect(renders()).toHaveLength(2);

    const byDefault = await get(url(1));
    expect(byDefault.res.headers.get('image-width')).toBe('1024');
    expect(pngSize(byDefault.body)).toMatchObject({ width: 1024, height: 341 });
    expect(pngSize((await get(url(1, '?width=2000'))).body)).toMatchObject({ width: 2000 });
    for (const width of ['0', '2001', 'wide']) {
      const res = await fetch(url(1, `?width=${width}`));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('invalid_option');
    }
    expect((await fetch(url(9))).status).toBe(404);
  });

  it('makes a multi-page scan searchable, page by page', async () => {
    const scan = await scannedPdf(2);
    const { body } = await upload(stack.baseUrl, scan);
    expect((await waitForJob(stack.baseUrl, body.id)).status).toBe('completed');
    const result = (await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result`)).json()) as FullResult;
    const hocr = (await get(`${stack.baseUrl}/v1/jobs/${body.id}/result?format=hocr`)).body.toString('utf8');
    expect(hocr.match(/class="ocr_page"/g)).toHaveLength(2);
    expect(hocrWords(hocr)).toHaveLength(result.pages.reduce((n, p) => n + words(p).length, 0));
    expect(hocr).toContain('<title>doc.pdf</title>');

    const pdf = (await get(`${stack.baseUrl}/v1/jobs/${body.id}/result?format=pdf`)).body;
    expect(tool('qpdf', ['--check'], pdf).status).toBe(0);
    const pages = tool('pdftotext', ['INPUT', '-'], pdf).stdout.split('\f');
    expect(squash(pages[0])).toBe(SCANNED_LINES.join(' '));
    expect(squash(pages[1])).toBe(SCANNED_LINES.join(' '));

    // The outputs live as long as the job: DELETE takes them all, page images included.
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/pages/1/image?width=100`)).status).toBe(200);
    const stored = () =>
      ['results', 'pages', 'images'].flatMap((d) => readdirSync(join(stack.env.STORAGE_DIR, d)).filter((name) => name.startsWith(body.id)));
    expect(stored().length).toBeGreaterThanOrEqual(7);
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(stored()).toEqual([]);
  });

  it("reads a badly OCR'd scan again with ocr=always and gives it one text layer, the new one", async () => {
    const stale = await previouslyOcrdScanPdf();
    const before = tool('pdftotext', ['INPUT', '-'], stale).stdout.split('\f');
    expect(before.slice(0, 2).map(squash)).toEqual([STALE_OCR_TEXT, STALE_OCR_TEXT]);
    const { body } = await upload(stack.baseUrl, stale, { ocr: 'always' });
    expect((await waitForJob(stack.baseUrl, body.id)).status).toBe('completed');
    const pdf = (await get(`${stack.baseUrl}/v1/jobs/${body.id}/result?format=pdf`)).body;
    expect(tool('qpdf', ['--check'], pdf).status).toBe(0);
    const pages = tool('pdftotext', ['INPUT', '-'], pdf).stdout.split('\f');
    expect(squash(pages[0])).toBe(SCANNED_LINES.join(' '));
    expect(squash(pages[1])).toBe(SCANNED_LINES.join(' '));
    expect(renders(pdf, 2)).toEqual(renders(stale, 2));
  });
});
