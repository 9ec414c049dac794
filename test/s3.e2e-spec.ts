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

    // The bucket holds the document; the workers' folders only scratch copies, deleted when done.
    const bucket = storageOf(stack.env);
    expect(await bucket.get(`uploads/${scanned.body.id}.pdf`)).not.toBeNull();
    expect(await bucket.get(`results/${scanned.body.id}.json`)).not.toBeNull();
    expect(await bucket.list(`pages/${scanned.body.id}/`)).toEqual([]);
    for (const dir of dirs) expect(readdirSync(dir).sort()).toEqual(['copies', 'incoming']);
    // Both workers read pages, so both made a copy; both delete it once the document is done.
    await until('the workers to delete their copies', async () => dirs.every((dir) => readdirSync(join(dir, 'copies')).length === 0));
  });

  it('deletes the objects of a deleted job', async () => {
    const { body } = await upload(stack.baseUrl, await digitalPdf());
    expect((await waitForJob(stack.baseUrl, body.id)).status).toBe('completed');
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`, { method: 'DELETE' })).status).toBe(204);
    const bucket = storageOf(stack.env);
    for (const key of [`uploads/${body.id}.pdf`, `results/${body.id}.json`, `results/${body.id}.summary.json`]) {
      expect(await bucket.get(key)).toBeNull();
    }
  });
});
