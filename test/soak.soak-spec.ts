/**
 * Soak (`npm run test:soak`, not in CI: a few minutes): 1000 scanned pages through one
 * worker. Its resident memory must stay flat and its OCR engines must be recycled, not
 * leaked. Prints the figures quoted in the README.
 */
import { scannedPdf } from './fixtures';
import { freePort, sample, startStack, until, upload, waitForJob } from './harness';
import { memoryOf } from './hostile-fixtures';

import { readFileSync } from 'node:fs';

const PAGES = Number(process.env.SOAK_PAGES ?? 1000);
const PER_DOCUMENT = 20;
const threadsOf = (pid: number) => Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

it(`${PAGES} pages through one worker: memory flat within 10%, engines recycled, no thread leak`, async () => {
  const metricsPort = await freePort();
  const stack = await startStack({ workers: 0, env: { OCR_CONCURRENCY: '2' } });
  try {
    const worker = await stack.startWorker({ WORKER_METRICS_PORT: String(metricsPort) });
    const pid = worker.child.pid!;
    const pdf = await scannedPdf(PER_DOCUMENT);
    const samples: { pages: number; rssMb: number; threads: number }[] = [];
    const started = Date.now();
    // Two documents in flight, so that both threads stay busy.
    let next = 0;
    const run = async () => {
      while (next < PAGES / PER_DOCUMENT) {
        next += 1;
        const { body } = await upload(stack.baseUrl, pdf);
        const job = await waitForJob(stack.baseUrl, body.id, 600_000);
        expect(job.status).toBe('completed');
        samples.push({ pages: samples.length * PER_DOCUMENT + PER_DOCUMENT, rssMb: memoryOf(pid).rssMb, threads: threadsOf(pid) });
      }
    };
    await Promise.all([run(), run()]);
    const seconds = (Date.now() - started) / 1000;
    const metrics = await until('worker metrics', async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    // After the first 400 pages (engines warm, heaps and caches grown to their working size;
    // a 3000-page run levels off there) memory must stay level: the median of the last 200
    // pages within 10% of the median of pages 401 to 600.
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const early = median(samples.filter((s) => s.pages > 400 && s.pages <= 600).map((s) => s.rssMb));
    const late = median(samples.filter((s) => s.pages > PAGES - 200).map((s) => s.rssMb));
    const recycled = sample(metrics, 'ocr_engine_restarts_total', { reason: 'recycle' });
    const { peakMb } = memoryOf(pid);
    console.log(
      [
        `Soak: ${PAGES} pages in ${seconds.toFixed(0)} s (${(PAGES / seconds).toFixed(2)} pages/s) through one worker, OCR_CONCURRENCY=2`,
        `RSS (median) over pages 401-600: ${early} MiB, over the last 200: ${late} MiB (${(((late - early) / early) * 100).toFixed(1)}%); peak ${peakMb} MiB`,
        `threads: ${samples[0].threads} after the first document, ${samples[samples.length - 1].threads} at the end; engines recycled: ${recycled}`,
        `RSS by pages: ${samples.map((s) => `${s.pages}:${s.rssMb}`).join(' ')}`,
      ].join('\n'),
    );
    expect(late).toBeLessThanOrEqual(early * 1.1);
    expect(samples[samples.length - 1].threads).toBeLessThanOrEqual(samples[0].threads + 2);
    // Each thread recycles its engine every OCR_RECYCLE_PAGES (200) pages.
    expect(recycled).toBeGreaterThanOrEqual(PAGES / 200 - 2);
    expect(sample(metrics, 'ocr_pages_processed_total', { source: 'ocr' })).toBe(PAGES);
  } finally {
    await stack.stop();
  }
}, 3_600_000);
