/**
 * npm run bench: throughput of the real service (API + workers + Redis) on a 20-page scanned
 * document, run in one command so that every figure has a baseline from the same minute.
 *
 *   - scale-out: 1 worker process vs 2 (OCR_CONCURRENCY=1 each, so the ratio shows what adding
 *     a worker container gives; on a 2-core machine 2 processes are all the cores there are)
 *   - model: Debian's tessdata_fast (OCR_MODEL) vs the npm best_int data
 *   - the cost of orientation detection (OCR_DETECT_ORIENTATION)
 *   - image hand-off: PGM vs PNG encoding of a 300 dpi letter page
 *   - the worker's event-loop delay while it works
 *
 * Uses pages 1-20 of ../shared/corpus/scans/ocropy_aim916.pdf when present, else a generated
 * document. BENCH_REPS (default 3) runs of each; medians are reported.
 */
import { createCanvas } from '@napi-rs/canvas';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stripVTControlCharacters } from 'node:util';
import { rgbaToPgm } from '../src/worker/pdf/raster';
import { denseScannedPdf, scannedPdf } from '../test/fixtures';
import { Proc, startRedis, startStack, upload, waitForJob } from '../test/harness';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const CORPUS_DOC = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'scans', 'ocropy_aim916.pdf');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const document = existsSync(CORPUS_DOC) ? readFileSync(CORPUS_DOC) : await denseScannedPdf(20);
  const source = existsSync(CORPUS_DOC) ? 'ocropy_aim916.pdf pages 1-20 (real 300 dpi scans)' : 'generated: 20 letter pages of text';
  console.log(`Document: ${source}; ${REPS} runs per scenario\n`);

  const redis = await startRedis();
  const warmUp = await scannedPdf();
  const scenarios: Record<string, { workers: number; env: Record<string, string> }> = {
    '1 worker, fast model': { workers: 1, env: {} },
    '2 workers, fast model': { workers: 2, env: {} },
    '1 worker, npm best_int model': { workers: 1, env: { OCR_MODEL: '/nonexistent' } },
    '1 worker, no orientation detection': { workers: 1, env: { OCR_DETECT_ORIENTATION: 'false' } },
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
  const loopDelays: string[] = [];

  for (let rep = 0; rep < REPS; rep++) {
    // Interleaved, so drift in the machine's load hits every scenario alike.
    for (const [name, scenario] of Object.entries(scenarios)) {
      const stack = await startStack({ redisUrl: redis.url, workers: scenario.workers, env: { OCR_CONCURRENCY: '1', ...scenario.env } });
      try {
        await Promise.all(
          Array.from({ length: scenario.workers * 2 }, async () =>
            waitForJob(stack.baseUrl, (await upload(stack.baseUrl, warmUp)).body.id),
          ),
        );
        const started = performance.now();
        const { body } = await upload(stack.baseUrl, document, { pages: '1-20' });
        const job = await waitForJob(stack.baseUrl, body.id, 600_000);
        if (job.status !== 'completed') throw new Error(`${name}: job ${job.status} ${JSON.stringify(job.error)}`);
        times[name].push((performance.now() - started) / 1000);
      } finally {
        const workers: Proc[] = stack.workers;
        await stack.stop();
        for (const w of workers) loopDelays.push(/Event loop delay: ([^\n]*)/.exec(stripVTControlCharacters(w.output))?.[1] ?? 'n/a');
      }
      console.log(`run ${rep + 1}: ${name}: ${times[name].at(-1)!.toFixed(1)} s`);
    }
  }
  await redis.stop();

  const base = median(times['1 worker, fast model']);
  console.log('\nscenario                                median s   pages/min   vs 1 worker');
  for (const [name, xs] of Object.entries(times)) {
    const m = median(xs);
    console.log(
      `${name.padEnd(40)}${m.toFixed(1).padStart(8)}${((20 / m) * 60).toFixed(1).padStart(12)}${(base / m).toFixed(2).padStart(12)}x`,
    );
  }
  console.log(`\nworker event-loop delay (per process, whole run): ${loopDelays.join(' | ')}`);

  // The hand-off format: what tesseract.js is given for a 300 dpi letter page.
  const canvas = createCanvas(2550, 3300);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, 2550, 3300);
  ctx.fillStyle = 'black';
  ctx.font = '40px sans-serif';
  for (let y = 100; y < 3300; y += 60) ctx.fillText('The quick brown fox jumps over the lazy dog 0123456789', 100, y);
  const rgba = ctx.getImageData(0, 0, 2550, 3300).data;
  const pgm: number[] = [];
  const png: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    rgbaToPgm(rgba, 2550, 3300);
    pgm.push(performance.now() - t);
    t = performance.now();
    await canvas.encode('png');
    png.push(performance.now() - t);
  }
  console.log(`image hand-off, 2550x3300 page: PGM ${median(pgm).toFixed(0)} ms, PNG ${median(png).toFixed(0)} ms (median of 5)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
