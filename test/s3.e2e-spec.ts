import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digitalPdf, scannedPdf, SCANNED_LINES } from './fixtures';
import { Stack, startS3, startStack, storageOf, until, upload, waitForJob } from './harness';

describe('no shared disk: an API and two workers on S3', () => {
  let stack: Stack;
  let s3: Awaited<ReturnType<typeof startS3>>;
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'ocr-e2e-host-')));

  beforeAll(async () => {
    s3 = await startS3();
    stack = await startStack({ workers: 0, env: { ...s3.env, STORAGE_URL: `s3://${s3.bucket}/two-hosts` } });
    // Each worker as on a host of its own: an empty STORAGE_DIR that nobody else sees.
    for (const dir of dirs) await stack.startWorker({ STORAGE_DIR: dir });
  });

  afterAll(async () => {
    await stack?.stop();
    await s3?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('completes documents whose pages spread over both workers', async () => {
    const scanned = await upload(stack.baseUrl, await scannedPdf(6));
    const digital = await upload(stack.baseUrl, await digitalPdf());
    const job = await waitForJob(stack.baseUrl, scanned.body.id);
    expect(job.status).toBe('completed');
    for (const page of job.result!.pages) expect(page.text.split(/\s+/)).toEqual(SCANNED_LINES.join(' ').split(/\s+/));
    expect((await waitForJob(stack.baseUrl, digital.body.id)).status).toBe('completed');
    const pagesBy = stack.workers.map((w) => (w.output.match(new RegExp(`Page \\d+ of ${scanned.body.id}:`, 'g')) ?? []).length);
    expect(pagesBy.every((n) => n > 0)).toBe(true);
    expect(pagesBy[0] + pagesBy[1]).toBe(6);

    const full = await fetch(`${stack.baseUrl}/v1/jobs/${scanned.body.id}/result`);
    expect(full.status).toBe(200);
    expect(((await full.json()) as { pages: unknown[] }).pages).toHaveLength(6);
    // Outputs made by a worker and a page image rendered on request, served from the bucket.
    const pdf = await fetch(`${stack.baseUrl}/v1/jobs/${scanned.body.id}/result?format=pdf`);
    expect(pdf.status).toBe(200);
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(Number(pdf.headers.get('content-length'))).toBe(bytes.length);
    // The same ETag as from a folder (304s are checked in formats.e2e-spec.ts, on the same code).
    expect(pdf.headers.get('etag')).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(await (await fetch(`${stack.baseUrl}/v1/jobs/${scanned.body.id}/pages/2?format=hocr`)).text()).toContain('ocrx_word');
    const image = await fetch(`${stack.baseUrl}/v1/jobs/${scanned.body.id}/pages/1/image?width=300`);
    expect(image.status).toBe(200);
    expect(
      Buffer.from(await image.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    // The bucket holds the document; the workers' folders only scratch copies, deleted when done.
    const bucket = storageOf(stack.env);
    expect(await bucket.get(`uploads/${scanned.body.id}.pdf`)).not.toBeNull();
    expect(await bucket.get(`results/${scanned.body.id}.json`)).not.toBeNull();
    expect(await bucket.get(`results/${scanned.body.id}.pdf`)).not.toBeNull();
    // Width 300 is served, and stored, as the 512-pixel image.
    expect(await bucket.get(`images/${scanned.body.id}/1-512.png`)).not.toBeNull();
    for (const dir of dirs) expect(readdirSync(dir).sort()).toEqual(['copies', 'incoming']);
    // Both workers read pages, so both made a copy; both delete it once the document is done.
    await until('the workers to delete their copies', async () => dirs.every((dir) => readdirSync(join(dir, 'copies')).length === 0));
  });

  it('deletes the objects of a deleted job', async () => {
    const { body } = await upload(stack.baseUrl, await digitalPdf());
    expect((await waitForJob(stack.baseUrl, body.id)).status).toBe('completed');
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { method: 'DELETE' })).status).toBe(204);
    const bucket = storageOf(stack.env);
    expect((await bucket.list('')).filter((o) => o.key.includes(body.id))).toEqual([]);
  });
});
