/**
 * The web page at `/` in a real browser (Debian's chromium, driven by playwright-core), against
 * the real API and a real worker: upload, live progress, page images with word boxes, text,
 * downloads, the API's errors, an accessibility check (axe-core) and screenshots.
 * In CI the browser must be there (.ci/run installs it); elsewhere the spec skips without it.
 */
import axe from 'axe-core';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page as Tab } from 'playwright-core';
import { DIGITAL_LINES, mixedPdf, SCANNED_LINES, textImagePng, truncatedPdf } from './fixtures';
import { browserPresent, launchChromium } from './browser';
import { Stack, startStack, upload, waitForJob } from './harness';

const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
const LIMIT = 200_000;

interface ApiWord {
  text: string;
  confidence: number | null;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}
interface ApiPage {
  page: number;
  source: string;
  width: number;
  height: number;
  text: string;
  lines: { words: ApiWord[] }[];
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

const present = browserPresent('Web page browser checks');

/** Everything a page reports that should never happen: script errors and CSP refusals. */
function watch(tab: Tab) {
  const problems: string[] = [];
  tab.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  tab.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  return problems;
}

/** axe-core in the page (evaluated over the DevTools protocol, so the page's CSP stays on). */
async function seriousViolations(tab: Tab): Promise<AxeViolation[]> {
  await tab.evaluate(axe.source);
  const violations = (await tab.evaluate(
    `axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }).then((r) => r.violations)`,
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

(present ? describe : describe.skip)('the web page, in a browser', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let tab: Tab;
  let problems: string[];
  let jobId: string;
  let pdf: Buffer;

  beforeAll(async () => {
    // A small upload limit, to see the page report the API's 413.
    // Loopback over http allowed, for the PDF the page names by its address.
    const env = { MAX_UPLOAD_BYTES: String(LIMIT), WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ALLOW_HTTP: 'true' };
    [stack, pdf] = await Promise.all([startStack({ env }), mixedPdf()]);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    tab = await context.newPage();
    problems = watch(tab);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('is served at / under a CSP that allows only its own origin, outside the API and its document', async () => {
    const res = await fetch(`${stack.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-|https:|data:|\*/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    for (const asset of ['/app.js', '/app.css']) {
      const file = await fetch(`${stack.baseUrl}${asset}`);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-security-policy')).toBe(csp);
    }
    // The API's own routes are untouched: JSON 404s and the OpenAPI document without the page.
    expect((await fetch(`${stack.baseUrl}/nothing-here`)).status).toBe(404);
    const document = (await (await fetch(`${stack.baseUrl}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).every((path) => path.startsWith('/v1/') || path.startsWith('/health') || path === '/metrics')).toBe(
      true,
    );
  });

  it('reads a two-page mixed PDF: progress, both pages with their text, word boxes where the API puts them, downloads', async () => {
    await tab.goto(stack.baseUrl);
    await tab.getByRole('checkbox', { name: /English/ }).waitFor();
    await tab.locator('input[type=file]').setInputFiles({ name: 'mixed.pdf', mimeType: 'application/pdf', buffer: pdf });
    await tab.getByRole('button', { name: 'Read document' }).click();

    const progress = tab.getByRole('progressbar', { name: 'Pages read' });
    await progress.and(tab.locator('[aria-valuenow="2"][aria-valuemax="2"]')).waitFor({ timeout: 120_000 });
    await expect(tab.getByTestId('progress-text').textContent()).resolves.toBe('2 of 2 pages');
    jobId = /#\/jobs\/([\w-]+)$/.exec(tab.url())![1];
    expect((await waitForJob(stack.baseUrl, jobId)).status).toBe('completed');
    await tab.locator('.job .status--completed').waitFor();

    const pages: ApiPage[] = [];
    for (const n of [1, 2]) pages.push((await (await fetch(`${stack.baseUrl}/v1/jobs/${jobId}/pages/${n}`)).json()) as ApiPage);
    expect(pages.map((p) => p.source)).toEqual(['text', 'ocr']);

    // Both pages show their text, word for word as the API read it.
    for (const apiPage of pages) {
      const article = tab.locator(`article[data-page="${apiPage.page}"]`);
      const words = apiPage.lines.flatMap((l) => l.words.map((w) => w.text));
      await article
        .locator('.text__word')
        .nth(words.length - 1)
        .waitFor();
      const shown = (await article.getByTestId('page-text').textContent())!;
      expect(shown.replace(/\s+/g, '')).toBe(words.join(''));
      await expect(article.locator('.badge').first().textContent()).resolves.toBe(apiPage.source === 'ocr' ? 'OCR' : 'Text layer');
    }
    expect(await tab.locator('article[data-page="1"]').getByTestId('page-text').textContent()).toContain(DIGITAL_LINES[0]);

    // The scanned page: its image is drawn, and a word's box sits where the API's coordinates say.
    const scanned = pages[1];
    const article = tab.locator('article[data-page="2"]');
    const canvas = article.locator('canvas');
    await article.locator('canvas:not(.sheet__image--loading)').waitFor();
    expect(await canvas.evaluate((c) => (c as unknown as { width: number }).width)).toBe(2000);
    const sheet = (await canvas.boundingBox())!;
    const scale = sheet.width / scanned.width;
    expect(sheet.height).toBeCloseTo(scanned.height * scale, 0);
    const words = scanned.lines.flatMap((l) => l.words);
    const index = words.findIndex((w) => w.text === 'quick');
    expect(index).toBeGreaterThanOrEqual(0);
    const word = words[index];
    const box = article.locator(`.box[data-word="${index}"]`);
    const drawn = (await box.boundingBox())!;
    expect(Math.abs(drawn.x - (sheet.x + word.bbox.x0 * scale))).toBeLessThan(1.5);
    expect(Math.abs(drawn.y - (sheet.y + word.bbox.y0 * scale))).toBeLessThan(1.5);
    expect(Math.abs(drawn.width - (word.bbox.x1 - word.bbox.x0) * scale)).toBeLessThan(1.5);
    expect(Math.abs(drawn.height - (word.bbox.y1 - word.bbox.y0) * scale)).toBeLessThan(1.5);
    expect(await article.locator('.box').count()).toBe(words.length);
    await expect(box.getAttribute('aria-label')).resolves.toBe(`quick, confidence ${Math.round(word.confidence!)}%`);

    // A download gives the searchable PDF, named after the upload.
    const [download] = await Promise.all([tab.waitForEvent('download'), tab.getByRole('button', { name: 'Searchable PDF' }).click()]);
    expect(download.suggestedFilename()).toBe('mixed.pdf');
    const saved = readFileSync((await download.path())!);
    expect(saved.subarray(0, 5).toString()).toBe('%PDF-');
    await tab.getByTestId('download-status').getByText('Downloaded mixed.pdf').waitFor();

    // The list of this browser's jobs shows it, done.
    const listed = tab.getByRole('listitem').filter({ hasText: 'mixed.pdf' });
    await listed.locator('.status--completed').waitFor();

    // Hovering shows the word and its confidence; the arrow keys walk the words.
    await box.hover();
    await expect(article.locator('.tip').textContent()).resolves.toBe(`quick${Math.round(word.confidence!)}%`);
    await expect(article.locator('.text__word--active').textContent()).resolves.toBe('quick');
    await box.focus();
    await tab.keyboard.press('ArrowRight');
    await expect(tab.evaluate('document.activeElement.dataset.word')).resolves.toBe(String(index + 1));

    // The README's screenshot: a word focused, its tip shown and its text highlighted.
    const screenshot = join(ARTIFACTS, 'web-desktop.png');
    await tab.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);

    expect(await seriousViolations(tab)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('reads a PDF given by its address, and shows why an address that answers 404 gets nothing', async () => {
    const files = createServer((req, res) => {
      if (req.url === '/shared/scan.pdf') res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    try {
      await tab.goto(stack.baseUrl);
      await tab.getByRole('checkbox', { name: /English/ }).waitFor();
      await tab.getByLabel(/Or its address/).fill(`${base}/shared/scan.pdf`);
      await tab.getByRole('button', { name: 'Read document' }).click();
      const progress = tab.getByRole('progressbar', { name: 'Pages read' });
      await progress.and(tab.locator('[aria-valuenow="2"][aria-valuemax="2"]')).waitFor({ timeout: 120_000 });
      const id = /#\/jobs\/([\w-]+)$/.exec(tab.url())![1];
      expect((await waitForJob(stack.baseUrl, id)).status).toBe('completed');
      await tab.locator('.jobs__name', { hasText: 'scan.pdf' }).first().waitFor();

      await tab.getByLabel(/Or its address/).fill(`${base}/gone.pdf`);
      await tab.getByRole('button', { name: 'Read document' }).click();
      const alert = tab.getByTestId('upload-error');
      await alert.waitFor();
      const text = (await alert.textContent())!;
      expect(text).toContain('url_unavailable');
      expect(text).toContain('HTTP 404');
      expect(await seriousViolations(tab)).toEqual([]);
    } finally {
      await new Promise((resolve) => files.close(resolve));
    }
  });

  it('reads a scanned image chosen in the picker, which offers images as well as PDFs', async () => {
    await tab.goto(stack.baseUrl);
    await tab.getByRole('checkbox', { name: /English/ }).waitFor();
    const accept = (await tab.locator('input[type=file]').getAttribute('accept'))!;
    for (const type of ['application/pdf', 'image/png', 'image/jpeg', 'image/tiff', 'image/webp']) expect(accept).toContain(type);
    await expect(tab.getByText('Drop a PDF or an image here').count()).resolves.toBe(1);
    const png = textImagePng(SCANNED_LINES);
    await tab.locator('input[type=file]').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: png });
    await tab.getByRole('button', { name: 'Read document' }).click();
    await tab.locator('.job .status--completed').waitFor({ timeout: 120_000 });
    const id = /#\/jobs\/([\w-]+)$/.exec(tab.url())![1];
    const job = await waitForJob(stack.baseUrl, id);
    expect(job.result!.text).toMatch(/quick brown fox/);
    await tab.locator('article[data-page="1"] .text__word', { hasText: 'quick' }).first().waitFor();
  });

  it('shows the message the API gives for a file that is not a PDF', async () => {
    const notPdf = Buffer.from('Meeting notes: this is plain text, not a PDF.\n');
    const { res, body } = await upload(stack.baseUrl, notPdf, {}, 'notes.txt');
    expect(res.status).toBe(415);
    const message = (body as unknown as { message: string }).message;

    await tab.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: notPdf });
    await tab.getByRole('button', { name: 'Read document' }).click();
    const alert = tab.getByTestId('upload-error');
    await alert.waitFor();
    expect(await alert.getAttribute('role')).toBe('alert');
    const text = (await alert.textContent())!;
    expect(text).toContain(message);
    expect(text).toContain('unsupported_media_type');
    expect(text).toContain('415');
    await tab.screenshot({ path: join(ARTIFACTS, 'web-error.png') });
    expect(await seriousViolations(tab)).toEqual([]);
  });

  it('shows the message the API gives for a file over the upload limit', async () => {
    const large = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(LIMIT * 2, 0x20)]);
    const { res, body } = await upload(stack.baseUrl, large, {}, 'large.pdf');
    expect(res.status).toBe(413);
    const message = (body as unknown as { message: string }).message;

    await tab.locator('input[type=file]').setInputFiles({ name: 'large.pdf', mimeType: 'application/pdf', buffer: large });
    await tab.getByRole('button', { name: 'Read document' }).click();
    const alert = tab.getByTestId('upload-error');
    await alert.getByText('file_too_large').waitFor();
    expect(await alert.textContent()).toContain(message);
  });

  it("shows a failed job's error as the API gives it", async () => {
    await tab.locator('input[type=file]').setInputFiles({ name: 'broken.pdf', mimeType: 'application/pdf', buffer: await truncatedPdf() });
    await tab.getByRole('button', { name: 'Read document' }).click();
    await tab.locator('.job .status--failed').waitFor({ timeout: 60_000 });
    const failedId = /#\/jobs\/([\w-]+)$/.exec(tab.url())![1];
    const job = await waitForJob(stack.baseUrl, failedId);
    expect(job.error?.code).toBe('pdf_invalid');
    const alert = tab.locator('.job__summary [role=alert]');
    await expect(alert.textContent()).resolves.toBe(`The job failed: ${job.error!.message} ${job.error!.code}`);
    await tab.getByRole('listitem').filter({ hasText: 'broken.pdf' }).locator('.status--failed').waitFor();
  });

  it('works on a phone screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      const small = await phone.newPage();
      const problemsOnPhone = watch(small);
      await small.goto(`${stack.baseUrl}/#/jobs/${jobId}`);
      // Pages load as they come near the screen.
      await small.locator('article[data-page="2"]').scrollIntoViewIfNeeded();
      await small.locator('article[data-page="2"] canvas:not(.sheet__image--loading)').waitFor();
      await small.locator('article[data-page="2"] .box').first().waitFor();
      // Nothing wider than the screen: no sideways scrolling.
      await expect(small.evaluate('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(390);
      const screenshot = join(ARTIFACTS, 'web-phone.png');
      await small.screenshot({ path: screenshot, fullPage: true });
      expect(statSync(screenshot).size).toBeGreaterThan(20_000);
      expect(await seriousViolations(small)).toEqual([]);
      expect(problemsOnPhone).toEqual([]);
    } finally {
      await phone.close();
    }
  });
});

(present ? describe : describe.skip)('the web page, when the service needs an API key', () => {
  const KEY = 'web-page-test-key-0123456789';
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    // No worker: the job stays queued, which is all this needs.
    stack = await startStack({ workers: 0, env: { API_KEYS: KEY } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('asks for the key, keeps it in session storage only, and sends it with every call', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const tab = await context.newPage();
      const problems = watch(tab);
      await tab.goto(stack.baseUrl);
      await tab.getByText('This service needs an API key').waitFor();

      const keyField = tab.getByRole('textbox', { name: 'API key' });
      await keyField.fill('not-the-key');
      await tab.getByRole('button', { name: 'Use key' }).click();
      await tab.locator('.key [role=alert]').getByText('unauthorized').waitFor();

      await keyField.fill(KEY);
      await tab.getByRole('button', { name: 'Use key' }).click();
      await tab.getByText('No worker is running at the moment').waitFor();
      await tab.locator('input[type=file]').setInputFiles({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: await mixedPdf() });
      await tab.getByRole('button', { name: 'Read document' }).click();
      await tab.getByTestId('progress-text').getByText('Waiting for a worker').waitFor();
      await tab.locator('.job .status--queued').waitFor();
      const jobId = /#\/jobs\/([\w-]+)$/.exec(tab.url())![1];

      // The job was made with the key: it exists for it, and for nobody without one.
      expect((await fetch(`${stack.baseUrl}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
      expect((await fetch(`${stack.baseUrl}/v1/jobs/${jobId}`)).status).toBe(401);
      const storage = (await tab.evaluate('JSON.stringify({ session: { ...sessionStorage }, local: { ...localStorage } })')) as string;
      const { session, local } = JSON.parse(storage) as { session: Record<string, string>; local: Record<string, string> };
      expect(Object.values(session)).toContain(KEY);
      expect(JSON.stringify(local)).not.toContain(KEY);
      expect(JSON.stringify(local)).toContain(jobId);
      expect(tab.url()).not.toContain(KEY);

      expect(await seriousViolations(tab)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
