/**
 * Hostile input: generated cases aimed at each limit, and every file of ../shared/corpus/hostile
 * when present. Each ends with a specific code, the worker's memory stays bounded, and the
 * next normal job completes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { denseScannedPdf, digitalPdf } from './fixtures';
import { Stack, startStack, upload, waitForJob } from './harness';
import { flateBombPdf, hostileCases, memoryOf } from './hostile-fixtures';

/** The worker's memory limit here, and the bound its resident memory must stay under (its peak, VmHWM). */
const WORKER_MEMORY_LIMIT_MB = 1024;
export const WORKER_RSS_BOUND_MB = 1536;

const CORPUS = join(process.env.OCR_CORPUS_DIR ?? join(__dirname, '..', '..', 'shared', 'corpus'), 'hostile');
const corpusPresent = existsSync(CORPUS);
if (!corpusPresent) console.warn(`Hostile corpus checks skipped: no folder at ${CORPUS} (set OCR_CORPUS_DIR to run them).`);

const FAILURE_CODES = ['pdf_invalid', 'pdf_encrypted', 'pdf_empty', 'too_many_pages', 'page_too_large', 'page_timeout'];
const REFUSAL_CODES = ['unsupported_media_type', 'pdf_empty', 'file_too_large'];

async function outcome(stack: Stack, file: Buffer, name: string) {
  const { res, body } = await upload(stack.baseUrl, file, {}, name);
  if (res.status !== 202) return `${res.status} ${(body as unknown as { code: string }).code}`;
  const job = await waitForJob(stack.baseUrl, body.id, 300_000);
  return job.status === 'failed' ? `failed ${job.error!.code}` : job.status;
}

describe('hostile input', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      env: { PAGE_TIMEOUT_MS: '30000', OCR_CONCURRENCY: '2', OCR_MEMORY_LIMIT_MB: String(WORKER_MEMORY_LIMIT_MB) },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs its worker with an allocator that gives freed memory back (jemalloc where installed)', () => {
    // The folders scripts/start-worker.sh looks in, its glob spelled out.
    const multiarch = readdirSync('/usr/lib').filter((dir) => dir.endsWith('-linux-gnu'));
    const jemalloc = ['/usr/local/lib', ...multiarch.map((dir) => `/usr/lib/${dir}`), '/usr/lib64'].some((dir) =>
      existsSync(`${dir}/libjemalloc.so.2`),
    );
    expect(stack.workers[0].output).toMatch(jemalloc ? /goes back to the system: jemalloc/ : /goes back to the system: glibc/);
  });

  it('ends each generated case with its specific code, within the memory bound, and keeps serving', async () => {
    const seen: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const c of await hostileCases()) {
      const started = Date.now();
      seen[c.name] = await outcome(stack, c.file, `${c.name}.pdf`);
      expected[c.name] = c.expected;
      console.log(
        `${c.name} (${c.file.length} bytes): ${seen[c.name]} in ${Date.now() - started} ms, worker ${JSON.stringify(memoryOf(stack.workers[0].child.pid!))}`,
      );
    }
    expect(seen).toEqual(expected);
    expect(stack.workers[0].child.exitCode).toBeNull();
    expect(memoryOf(stack.workers[0].child.pid!).peakMb).toBeLessThan(WORKER_RSS_BOUND_MB);
    expect(await outcome(stack, await digitalPdf(), 'normal.pdf')).toBe('completed');
  }, 600_000);

  it('stops only the page that holds the memory, not the pages beside it', async () => {
    // The bomb's page takes one thread while the dense pages, seconds each, keep the other busy the whole time.
    const from = stack.workers[0].output.length;
    const bomb = await upload(stack.baseUrl, await flateBombPdf(), {}, 'bomb.pdf');
    const dense = await upload(stack.baseUrl, await denseScannedPdf(4), {}, 'dense.pdf');
    const [bombJob, denseJob] = await Promise.all([
      waitForJob(stack.baseUrl, bomb.body.id, 300_000),
      waitForJob(stack.baseUrl, dense.body.id, 300_000),
    ]);
    const log = stack.workers[0].output.slice(from);
    const stops = log.split('\n').filter((line) => line.includes('Resident memory over OCR_MEMORY_LIMIT_MB'));
    console.log(stops.join('\n'));
    expect(bombJob.error?.code).toBe('page_too_large');
    expect(denseJob.status).toBe('completed');
    expect(stops.length).toBeGreaterThan(0);
    expect(stops.every((line) => line.includes(bomb.body.id) && !line.includes(dense.body.id))).toBe(true);
    // No page of the dense document was stopped and tried again.
    expect(log).not.toMatch(new RegExp(`Page \\d+ of ${dense.body.id} failed`));
  }, 600_000);

  (corpusPresent ? it : it.skip)(
    'ends every file of the hostile corpus with a result or a specific code',
    async () => {
      for (const file of readdirSync(CORPUS).filter((f) => f.endsWith('.pdf'))) {
        const started = Date.now();
        const result = await outcome(stack, readFileSync(join(CORPUS, file)), file);
        console.log(`${file}: ${result} in ${Date.now() - started} ms, worker ${JSON.stringify(memoryOf(stack.workers[0].child.pid!))}`);
        const [status, code] = result.split(' ');
        if (status === 'failed') expect(FAILURE_CODES).toContain(code);
        else if (status !== 'completed') expect(REFUSAL_CODES).toContain(code);
      }
      expect(stack.workers[0].child.exitCode).toBeNull();
      expect(memoryOf(stack.workers[0].child.pid!).peakMb).toBeLessThan(WORKER_RSS_BOUND_MB);
      expect(await outcome(stack, await digitalPdf(), 'normal.pdf')).toBe('completed');
    },
    900_000,
  );
});
