import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digitalPdf, DIGITAL_LINES, mixedPdf, scannedPdf, SCANNED_LINES, turnedScansPdf } from './fixtures';
import { JobBody, runHealthcheck, Stack, startS3, startStack, storageOf, until, upload, waitForJob } from './harness';

interface FullWord {
  text: string;
  confidence: number | null;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}
interface FullResult {
  pages: { width: number; height: number; lines: { words: FullWord[] }[] }[];
}

const words = (lines: string[]) => lines.join(' ').split(/\s+/);

describe.each(['local', 's3'] as const)('OCR jobs over HTTP (%s storage), with a real worker, Redis and tesseract.js', (storage) => {
  let stack: Stack;
  let s3: Awaited<ReturnType<typeof startS3>> | undefined;
  const heartbeatDir = mkdtempSync(join(tmpdir(), 'ocr-e2e-heartbeat-'));
  const workerDir = mkdtempSync(join(tmpdir(), 'ocr-e2e-worker-'));
  const stored = async (key: string) => (await storageOf(stack.env).get(key)) !== null;

  beforeAll(async () => {
    s3 = storage === 's3' ? await startS3() : undefined;
    const env = s3 ? { ...s3.env, STORAGE_URL: `s3://${s3.bucket}/jobs-e2e` } : {};
    stack = await startStack({ workers: 0, env: { HEARTBEAT_FILE: join(heartbeatDir, 'worker'), ...env } });
    // With S3 the worker has a folder of its own: API and worker share only Redis and the bucket.
    await stack.startWorker(s3 ? { STORAGE_DIR: workerDir } : {});
  });

  afterAll(async () => {
    await stack?.stop();
    await s3?.stop();
    rmSync(heartbeatDir, { recursive: true, force: true });
    rmSync(workerDir, { recursive: true, force: true });
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
    expect(await stored(`results/${body.id}.json`)).toBe(true);
    // In S3 mode nothing of the document is kept on the API's disk.
    if (s3) expect(existsSync(join(stack.env.STORAGE_DIR, 'uploads'))).toBe(false);
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

  it('shows a finished page to the poll made right after its event, and answers 304 to a poll that already has the answer', async () => {
    const { body } = await upload(stack.baseUrl, await scannedPdf(3));
    const stream = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/events`);
    const decoder = new TextDecoder();
    let buffered = '';
    let pagesSeen = 0;
    const polled: number[] = [];
    // Polls share a running job's answer for up to a second: an event must end that at once.
    for await (const chunk of stream.body! as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      const events = buffered.split('\n\n');
      buffered = events.pop()!;
      for (const event of events) {
        if (!/^event: page$/m.test(event)) continue;
        pagesSeen += 1;
        const job = (await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`)).json()) as JobBody;
        polled.push(job.progress.pagesDone);
        expect(job.progress.pagesDone).toBeGreaterThanOrEqual(pagesSeen);
      }
    }
    expect(polled).toHaveLength(3);
    const first = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`);
    const etag = first.headers.get('etag');
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(((await first.json()) as JobBody).status).toBe('completed');
    expect(etag).toBeTruthy();
    // Not fetch(): with If-None-Match it also sends Cache-Control: no-cache, which asks for a full answer.
    const again = await new Promise<number | undefined>((resolve, reject) =>
      httpGet(`${stack.baseUrl}/v1/jobs/${body.id}`, { headers: { 'if-none-match': etag! } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
    expect(again).toBe(304);
  });

  it('cancels a running job with DELETE and removes its files', async () => {
    const { body } = await upload(stack.baseUrl, await scannedPdf(6));
    // Running for real: a page has finished and others are still to come.
    await until(
      'a page to finish',
      async () => {
        const job = (await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`)).json()) as JobBody;
        return job.status === 'processing' && job.progress.pagesDone >= 1 && job.progress.pagesDone < 5;
      },
      60_000,
      50,
    );
    const del = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    const after = (await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`)).json()) as JobBody;
    expect(after).toMatchObject({ status: 'cancelled', result: null, progress: { pagesTotal: 6 } });
    expect(after.progress.pagesDone).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}/result`)).status).toBe(409);
    expect(await stored(`uploads/${body.id}.pdf`)).toBe(false);

    // The worker drops the cancelled pages and takes the next job.
    const next = await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, await digitalPdf())).body.id);
    expect(next.status).toBe('completed');
    // At most the page in flight when the job was cancelled was finished after it.
    const read = stack.workers[0].output.match(new RegExp(`Page \\d+ of ${body.id}: ocr`, 'g')) ?? [];
    expect(read.length).toBeLessThanOrEqual(after.progress.pagesDone + 1);
    expect(read.length).toBeLessThan(6);
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
