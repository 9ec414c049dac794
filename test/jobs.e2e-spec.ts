import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digitalPdf, DIGITAL_LINES, mixedPdf, scannedPdf, SCANNED_LINES, turnedScansPdf } from './fixtures';
import { JobBody, runHealthcheck, Stack, startStack, until, upload, waitForJob } from './harness';

interface FullWord {
  text: string;
  confidence: number | null;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}
interface FullResult {
  pages: { width: number; height: number; lines: { words: FullWord[] }[] }[];
}

const words = (lines: string[]) => lines.join(' ').split(/\s+/);

describe('OCR jobs over HTTP, with a real worker, Redis and tesseract.js', () => {
  let stack: Stack;
  const heartbeatDir = mkdtempSync(join(tmpdir(), 'ocr-e2e-heartbeat-'));

  beforeAll(async () => {
    stack = await startStack({ env: { HEARTBEAT_FILE: join(heartbeatDir, 'worker') } });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(heartbeatDir, { recursive: true, force: true });
  });

  it('OCRs an image-only page', async () => {
    const { res, body } = await upload(stack.baseUrl, await scannedPdf());
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/jobs/${body.id}`);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(body).toMatchObject({ status: 'queued', progress: { pagesTotal: null, pagesDone: 0 }, error: null, result: null });

    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    expect(job.progress).toEqual({ pagesTotal: 1, pagesDone: 1 });
    expect(job.startedAt).toEqual(expect.any(String));
    expect(job.finishedAt).toEqual(expect.any(String));
    const [page] = job.result!.pages;
    expect(page).toMatchObject({ page: 1, source: 'ocr', width: 432, height: 144 });
    expect(page.confidence).toBeGreaterThan(80);
    expect(page.text.split(/\s+/)).toEqual(words(SCANNED_LINES));
  });

  it('reads pages scanned sideways or upside down', async () => {
    const job = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await turnedScansPdf())).body.id);
    expect(job.status).toBe('completed');
    for (const page of job.result!.pages) expect(page.text.split(/\s+/)).toEqual(words(SCANNED_LINES));
    expect(job.result!.pages.map((p) => [p.width, p.height])).toEqual([
      [144, 432],
      [432, 144],
    ]);
    // Turned 90 clockwise, so righted by 270; and how that was decided.
    expect(job.result!.pages.map((p) => [p.rotation, p.rotationMethod])).toEqual([
      [270, 'sideways-read'],
      [180, 'osd'],
    ]);
  });

  it('reads a born-digital page from its text layer without OCR', async () => {
    const { body } = await upload(stack.baseUrl, await digitalPdf());
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    expect(job.result!.pages[0]).toMatchObject({ source: 'text', confidence: null, text: DIGITAL_LINES.join('\n') });
  });

  it('handles a mixed document page by page, with words and boxes in PDF points', async () => {
    const { body } = await upload(stack.baseUrl, await mixedPdf());
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    expect(job.progress).toEqual({ pagesTotal: 2, pagesDone: 2 });
    expect(job.result!.pages.map((p) => [p.page, p.source])).toEqual([
      [1, 'text'],
      [2, 'ocr'],
    ]);
    expect(job.result!.text.split('\f')).toHaveLength(2);

    const full = (await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result`)).json()) as FullResult;
    for (const page of full.pages) {
      const pageWords = page.lines.flatMap((l) => l.words);
      expect(pageWords.length).toBeGreaterThan(5);
      for (const w of pageWords) {
        expect(w.bbox.x0).toBeGreaterThanOrEqual(0);
        expect(w.bbox.x1).toBeLessThanOrEqual(page.width);
        expect(w.bbox.y0).toBeLessThan(w.bbox.y1);
        expect(w.bbox.y1).toBeLessThanOrEqual(page.height);
      }
    }
    // The same first word sits at the same place whether read from text or from pixels:
    // both pages put their first line 36 pt and 90 px (21.6 pt) from the left edge.
    const first = (p: number) => full.pages[p].lines[0].words[0];
    expect(first(0)).toMatchObject({ text: 'Quarterly', confidence: null });
    expect(first(0).bbox.x0).toBeCloseTo(36, 0);
    expect(first(1).text).toBe('The');
    expect(Math.abs(first(1).bbox.x0 - 21.6)).toBeLessThan(2);

    const text = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result?format=txt`);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await text.text()).toBe(job.result!.text);
    const negotiated = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result`, { headers: { accept: 'text/plain' } });
    expect(await negotiated.text()).toBe(job.result!.text);
  });

  it('processes only the selected pages, and honours ocr=always and ocr=never', async () => {
    const selected = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await digitalPdf(5), { pages: '2-3,5' })).body.id);
    expect(selected.result!.pages.map((p) => p.page)).toEqual([2, 3, 5]);

    const forced = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await digitalPdf(), { ocr: 'always' })).body.id);
    expect(forced.result!.pages[0].source).toBe('ocr');
    expect(forced.result!.pages[0].text).toContain('Acme Widgets');

    const never = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await scannedPdf(), { ocr: 'never' })).body.id);
    expect(never.result!.pages[0]).toMatchObject({ source: 'text', text: '' });
  });

  it('answers 409 for the result of an unfinished job, and 404 for an unknown one', async () => {
    const { body } = await upload(stack.baseUrl, await scannedPdf(3));
    const early = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result`);
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ statusCode: 409, code: 'job_not_finished' });
    await waitForJob(stack.baseUrl, body.id);

    const unknown = await fetch(`${stack.baseUrl}/v1/jobs/00000000-0000-0000-0000-000000000000`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ statusCode: 404, error: 'Not Found', code: 'job_not_found', message: expect.any(String) });
  });

  it('cancels a running job with DELETE and removes its files', async () => {
    const { body } = await upload(stack.baseUrl, await scannedPdf(4));
    const del = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    const after = (await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`)).json()) as JobBody;
    expect(after).toMatchObject({ status: 'cancelled', result: null });
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result`)).status).toBe(409);
    expect(existsSync(join(stack.env.STORAGE_DIR, 'uploads', `${body.id}.pdf`))).toBe(false);

    // The worker drops the cancelled pages and takes the next job.
    const next = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await digitalPdf())).body.id);
    expect(next.status).toBe('completed');
  });

  it("reports health, over HTTP and to the containers' healthcheck", async () => {
    const res = await fetch(`${stack.baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    expect(runHealthcheck('api', stack.env)).toMatchObject({ status: 0 });
    await until('the worker heartbeat', async () => existsSync(stack.env.HEARTBEAT_FILE));
    expect(runHealthcheck('worker', stack.env)).toMatchObject({ status: 0 });
  });
});
