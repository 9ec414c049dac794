import { scannedPdf } from './fixtures';
import { JobBody, Stack, startStack, until, upload, waitForJob } from './harness';

describe('several workers share one document', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ workers: 2 });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('spreads pages over both workers', async () => {
    const { body } = await upload(stack.baseUrl, await scannedPdf(6));
    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    expect(job.result!.pages.map((p) => p.source)).toEqual(Array(6).fill('ocr'));
    const handled = stack.workers.map((w) => (w.output.match(new RegExp(`Page \\d+ of ${body.id}: ocr`, 'g')) ?? []).length);
    expect(handled[0] + handled[1]).toBe(6);
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
  });

  it('finishes a document when one worker is stopped in the middle of it', async () => {
    const { body } = await upload(stack.baseUrl, await scannedPdf(8));
    await until('the first pages to finish', async () => {
      const job = (await (await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`)).json()) as JobBody;
      return job.progress.pagesDone >= 2;
    });
    const [leaving] = stack.workers;
    await leaving.stop('SIGTERM');
    // Nest re-raises the signal once shutdown is done; a page cut off would be retried.
    expect(String(leaving.child.signalCode ?? leaving.child.exitCode)).toMatch(/^(SIGTERM|0)$/);
    expect(leaving.output).not.toMatch(/failed \(will retry\)|Error/);

    const job = await waitForJob(stack.baseUrl, body.id);
    expect(job.status).toBe('completed');
    expect(job.result!.pages.map((p) => p.page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(job.result!.pages.every((p) => p.text.includes('lazy dog'))).toBe(true);
  });
});
