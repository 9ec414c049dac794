/**
 * npm run bench -- [DIR...]: the service as deployed (API + worker processes, real Redis, over
 * HTTP) on every PDF and image (PNG, JPEG, TIFF, WebP, GIF) under the folders, with the peers a user would pick instead run on the
 * same files in the same command, so that every ratio has its baseline from the same minutes.
 *
 *   default folders: ../shared/corpus/scans and ../shared/corpus/gt when present, else
 *   generated documents.
 *
 * Prints, per folder: pages/min, latency per document (median, p95), time by stage (from the
 * worker's own metrics), peak RSS per process, mean CER and WER where NAME.txt lies beside
 * NAME.pdf; with `ocrmypdf` and `tesseract` + `pdftoppm` on PATH (Debian packages), the same
 * for OCRmyPDF (--force-ocr --jobs N -O0 --sidecar) and the CLI (pdftoppm -r 300 -gray, N
 * pages at a time) and the ratios. Writes everything to BENCH_OUT (bench-results.json).
 *
 * Environment: BENCH_REPS (1) runs of each tool, medians reported; BENCH_ACCURACY=1 prints CER
 * and WER per file (also `npm run accuracy -- DIR...`); BENCH_PEERS=0 skips the peers;
 * BENCH_INFLIGHT (4) documents in flight; BENCH_WORKERS (1) worker processes with their
 * default OCR_CONCURRENCY; BENCH_POLLERS (0) clients GETting /v1/jobs/{id} back to back while the workers
 * are busy (0 to skip); BENCH_SCALE=1 also times the first multi-page document on 1 and 2
 * worker processes of one engine each; BENCH_ENGINE_PAGES (20) one-page documents of the last
 * folder are read by tesseract.js alone in a loop and by the tesseract CLI, on the same pixels,
 * to show what the engine itself costs (0 to skip).
 *
 * With `taskset` on PATH and two or more cores, three passes are pinned as the issue measured
 * them: polling (the worker on core 1, the API and Redis on core 0; 200 and 2000 clients each
 * GET a running job once a second, BENCH_POLL_CLIENTS="200,2000"), the latency of a one-page
 * document against the same page's time inside the worker (BENCH_LATENCY_RUNS, 5), and scale-out
 * (each worker process on a core of its own).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { createWorker, OEM, PSM } from 'tesseract.js';
import * as UTIF from 'utif';
import { denseScannedPdf, scannedPdf, turnedScansPdf } from '../test/fixtures';
import { freePort, Proc, startRedis, startStack, Stack, upload, waitForJob } from '../test/harness';

const env = process.env;
const REPS = Number(env.BENCH_REPS ?? 1);
const INFLIGHT = Number(env.BENCH_INFLIGHT ?? 4);
const WORKERS = Number(env.BENCH_WORKERS ?? 1);
const POLLERS = Number(env.BENCH_POLLERS ?? 0);
const PEER_JOBS = availableParallelism();
const ACCURACY = env.BENCH_ACCURACY === '1' || process.argv.includes('--accuracy');
const OUT = env.BENCH_OUT ?? 'bench-results.json';
const POLL_CLIENTS = (env.BENCH_POLL_CLIENTS ?? '200,2000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const LATENCY_RUNS = Number(env.BENCH_LATENCY_RUNS ?? 5);
const ENGINE_PAGES = Number(env.BENCH_ENGINE_PAGES ?? 20);
const ROOT = join(__dirname, '..', '..');
const CORPUS = env.CORPUS_DIR ?? join(ROOT, '..', 'shared', 'corpus');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return !s.length ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

// ---- scoring: the reference client's rules (../shared/tools/ocr-eval.mjs) ----
const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
function levenshtein<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
function score(text: string, truth: string) {
  const [got, want] = [norm(text), norm(truth)];
  const words = (s: string) => (s ? s.split(' ') : []);
  return {
    cer: levenshtein(got, want) / Math.max(1, want.length),
    wer: levenshtein(words(got), words(want)) / Math.max(1, words(want).length),
  };
}

interface Doc {
  set: string;
  file: string;
  name: string;
  pages: number;
  truth: string | null;
}
interface FileScore {
  cer: number;
  wer: number;
}
interface ToolRun {
  wallS: number;
  pages: number;
  latencies: number[];
  scores: Record<string, FileScore>;
  failed: string[];
}

function pdfPages(file: string, bytes: Buffer): number {
  const tool = spawnSync('pdfinfo', [file], { encoding: 'utf8' });
  const fromTool = /^Pages:\s+(\d+)/m.exec(tool.stdout ?? '')?.[1];
  if (fromTool) return Number(fromTool);
  return Math.max(1, (bytes.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length);
}

/** Images are read as they are, by the service and by the peers; a TIFF has as many pages as directories. */
const IMAGE = /\.(png|jpe?g|tiff?|webp|gif)$/i;
const INPUT = /\.(pdf|png|jpe?g|tiff?|webp|gif)$/i;
const isImage = (doc: Doc) => IMAGE.test(doc.file);
function imagePages(bytes: Buffer, name: string): number {
  if (!/\.tiff?$/i.test(name)) return 1;
  try {
    return Math.max(1, UTIF.decode(bytes).length);
  } catch {
    return 1;
  }
}

function collect(dirs: string[]): Doc[] {
  const docs: Doc[] = [];
  const walk = (root: string, dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(root, path);
      else if (INPUT.test(name)) {
        const txt = path.replace(INPUT, '.txt');
        const bytes = readFileSync(path);
        docs.push({
          set: basename(root),
          file: path,
          name: relative(root, path),
          pages: IMAGE.test(name) ? imagePages(bytes, name) : pdfPages(path, bytes),
          truth: existsSync(txt) ? readFileSync(txt, 'utf8') : null,
        });
      }
    }
  };
  for (const dir of dirs) walk(dir, dir);
  return docs;
}

async function generatedDocs(): Promise<{ dir: string; docs: Doc[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'ocr-bench-'));
  const files: Record<string, Buffer> = {
    'dense-10.pdf': await denseScannedPdf(10),
    'scan-1.pdf': await scannedPdf(),
    'turned-2.pdf': await turnedScansPdf(),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return { dir, docs: collect([dir]).map((d) => ({ ...d, set: 'generated' })) };
}

// ---- the service ----
async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}
function histogram(metrics: string, name: string, labels = ''): { sum: number; count: number } {
  const find = (suffix: string) => {
    const line = metrics.split('\n').find((l) => l.startsWith(`${name}_${suffix}`) && l.includes(labels));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  return { sum: find('sum'), count: find('count') };
}
/** A histogram's cumulative bucket counts by upper bound (seconds), for one label set. */
function buckets(metrics: string, name: string, labels: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`) || !line.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le) counts.set(le === '+Inf' ? Infinity : Number(le), Number(line.split(' ').pop()));
  }
  return counts;
}

/**
 * How long the API itself took, from its own histogram between two scrapes: the share of
 * requests over 50 ms and the bucket that holds the 99th percentile. Beside the client's
 * times, this tells the API's time from the client's and the network's.
 */
function serverTimes(before: string, after: string, labels: string): { requests: number; over50ms: number; p99AtMostMs: number } {
  const [b0, b1] = [buckets(before, 'http_request_duration_seconds', labels), buckets(after, 'http_request_duration_seconds', labels)];
  const between = [...b1].map(([le, n]) => [le, n - (b0.get(le) ?? 0)] as const).sort((x, y) => x[0] - y[0]);
  const requests = between.at(-1)?.[1] ?? 0;
  const within50 = between.find(([le]) => le === 0.05)?.[1] ?? 0;
  const p99 = between.find(([, n]) => n >= requests * 0.99)?.[0] ?? Infinity;
  return { requests, over50ms: requests ? (requests - within50) / requests : 0, p99AtMostMs: p99 * 1000 };
}

function peakRssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

const STAGES = ['queue_wait', 'open', 'text_layer', 'render', 'osd', 'ocr', 'document'] as const;
type Stages = Record<(typeof STAGES)[number], number>;

interface ServiceRun extends ToolRun {
  stagesMs: Stages;
  rssMb: Record<string, number>;
  rotation: Record<string, number>;
  /** Pages by readMethod: one Otsu read, or a second read with the other binarisation (which kept). */
  reads: Record<string, number>;
  /** OCR'd pages by how their pixels were made (ocr_page_rasters_total): from the page's one image, or rendered. */
  rasters: Record<string, number>;
  polling?: { requests: number; errors: number; p50: number; p99: number };
}

async function runService(redisUrl: string, docs: Doc[], poll: boolean): Promise<ServiceRun> {
  const metricsPort = await freePort();
  const stack: Stack = await startStack({
    redisUrl,
    workers: 0,
    env: { OCR_CONCURRENCY: env.OCR_CONCURRENCY ?? String(availableParallelism()) },
  });
  try {
    const workers: Proc[] = [];
    for (let i = 0; i < WORKERS; i++) workers.push(await stack.startWorker({ WORKER_METRICS_PORT: String(i === 0 ? metricsPort : 0) }));
    // Engines load their models while idle; one small document makes sure they have.
    const warm = await scannedPdf();
    await Promise.all(Array.from({ length: 2 }, async () => waitForJob(stack.baseUrl, (await upload(stack.baseUrl, warm)).body.id)));
    const before = await scrape(metricsPort);

    const run: ServiceRun = {
      wallS: 0,
      pages: 0,
      latencies: [],
      scores: {},
      failed: [],
      stagesMs: {} as Stages,
      rssMb: {},
      rotation: {},
      reads: {},
      rasters: {},
    };
    const ids: string[] = [];
    let busy = true;
    const polling = poll && POLLERS > 0 ? pollers(stack.baseUrl, ids, () => busy) : null;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: INFLIGHT }, async () => {
        while (next < docs.length) {
          const doc = docs[next++];
          const t0 = performance.now();
          const { res, body } = await upload(stack.baseUrl, readFileSync(doc.file), {}, basename(doc.file));
          if (res.status !== 202) {
            run.failed.push(`${doc.name}: HTTP ${res.status}`);
            continue;
          }
          ids.push(body.id);
          const job = await waitForJob(stack.baseUrl, body.id, 1_800_000);
          run.latencies.push((performance.now() - t0) / 1000);
          if (job.status !== 'completed' || !job.result) {
            run.failed.push(`${doc.name}: ${job.status} ${job.error?.code ?? ''}`);
            continue;
          }
          run.pages += job.result.pages.length;
          for (const page of job.result.pages as { rotationMethod?: string; readMethod?: string }[]) {
            const method = page.rotationMethod ?? 'n/a';
            run.rotation[method] = (run.rotation[method] ?? 0) + 1;
            const read = page.readMethod ?? 'n/a';
            run.reads[read] = (run.reads[read] ?? 0) + 1;
          }
          if (doc.truth !== null) run.scores[doc.name] = score(job.result.text, doc.truth);
        }
      }),
    );
    run.wallS = (performance.now() - started) / 1000;
    busy = false;
    if (polling) run.polling = await polling;

    const after = await scrape(metricsPort);
    const perPage = (name: string, labels = '') => {
      const [a, b] = [histogram(after, name, labels), histogram(before, name, labels)];
      const count = a.count - b.count;
      return count ? ((a.sum - b.sum) / count) * 1000 : NaN;
    };
    run.stagesMs = {
      queue_wait: perPage('ocr_queue_wait_seconds', 'queue="pages"'),
      open: perPage('ocr_page_stage_seconds', 'stage="open"'),
      text_layer: perPage('ocr_page_stage_seconds', 'stage="text_layer"'),
      render: perPage('ocr_page_stage_seconds', 'stage="render"'),
      osd: perPage('ocr_page_stage_seconds', 'stage="osd"'),
      ocr: perPage('ocr_page_stage_seconds', 'stage="ocr"'),
      document: perPage('ocr_document_duration_seconds'),
    };
    for (const raster of ['image', 'render']) {
      const count = (m: string) =>
        Number(
          m
            .split('\n')
            .find((l) => l.startsWith(`ocr_page_rasters_total{raster="${raster}"}`))
            ?.split(' ')
            .pop() ?? NaN,
        );
      run.rasters[raster] = count(after) - count(before);
    }
    run.rssMb.api = peakRssMb(stack.api.child.pid);
    workers.forEach((w, i) => (run.rssMb[`worker${i + 1}`] = peakRssMb(w.child.pid)));
    return run;
  } finally {
    await stack.stop();
  }
}

/** POLLERS clients each GET a job's status back to back while the workers are busy. */
async function pollers(baseUrl: string, ids: string[], busy: () => boolean) {
  const times: number[] = [];
  let errors = 0;
  while (!ids.length && busy()) await new Promise((r) => setTimeout(r, 20));
  await Promise.all(
    Array.from({ length: POLLERS }, async (_, i) => {
      while (busy()) {
        const t0 = performance.now();
        try {
          const res = await fetch(`${baseUrl}/v1/jobs/${ids[i % ids.length]}`);
          await res.arrayBuffer();
          if (res.status !== 200) errors += 1;
        } catch {
          errors += 1;
        }
        times.push(performance.now() - t0);
      }
    }),
  );
  return { requests: times.length, errors, p50: percentile(times, 50), p99: percentile(times, 99) };
}

// ---- the peers ----
const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<number>((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, ...opts.env } });
    child.on('exit', (code) => resolve(code ?? 1));
    child.on('error', () => resolve(1));
  });
}

/** OCRmyPDF as the issue measured it: one file at a time, its own --jobs for the pages. */
async function runOcrmypdf(docs: Doc[]): Promise<ToolRun> {
  const work = mkdtempSync(join(tmpdir(), 'bench-omp-'));
  const run: ToolRun = { wallS: 0, pages: 0, latencies: [], scores: {}, failed: [] };
  const started = performance.now();
  for (const [i, doc] of docs.entries()) {
    const t0 = performance.now();
    const sidecar = join(work, `${i}.txt`);
    const code = await sh('ocrmypdf', [
      '-q',
      '--force-ocr',
      '--jobs',
      String(PEER_JOBS),
      '-O0',
      // Images without a resolution (the SROIE receipts) are taken at 300 dpi, as the service takes them.
      ...(isImage(doc) ? ['--image-dpi', '300'] : []),
      '--sidecar',
      sidecar,
      doc.file,
      join(work, `${i}.pdf`),
    ]);
    run.latencies.push((performance.now() - t0) / 1000);
    if (code !== 0 || !existsSync(sidecar)) {
      run.failed.push(`${doc.name}: exit ${code}`);
      continue;
    }
    run.pages += doc.pages;
    if (doc.truth !== null) run.scores[doc.name] = score(readFileSync(sidecar, 'utf8'), doc.truth);
  }
  run.wallS = (performance.now() - started) / 1000;
  rmSync(work, { recursive: true, force: true });
  return run;
}

/** The tesseract CLI on pdftoppm's 300 dpi grey pages, PEER_JOBS pages at a time (the engine's own speed here). */
async function runCli(docs: Doc[]): Promise<ToolRun> {
  const work = mkdtempSync(join(tmpdir(), 'bench-cli-'));
  const run: ToolRun = { wallS: 0, pages: 0, latencies: [], scores: {}, failed: [] };
  const started = performance.now();
  const pages: { doc: number; image: string; out: string }[] = [];
  for (const [i, doc] of docs.entries()) {
    const t0 = performance.now();
    if (isImage(doc)) {
      // tesseract reads the image itself (every page of a TIFF).
      pages.push({ doc: i, image: doc.file, out: join(work, `${i}-image`) });
      run.latencies.push(0);
      continue;
    }
    if ((await sh('pdftoppm', ['-r', '300', '-gray', doc.file, join(work, `${i}-p`)])) !== 0) run.failed.push(`${doc.name}: pdftoppm`);
    run.latencies.push((performance.now() - t0) / 1000);
    for (const f of readdirSync(work)
      .filter((f) => f.startsWith(`${i}-p`) && f.endsWith('.pgm'))
      .sort())
      pages.push({ doc: i, image: join(work, f), out: join(work, f.replace(/\.pgm$/, '')) });
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: PEER_JOBS }, async () => {
      while (next < pages.length) {
        const { image, out } = pages[next++];
        // An image without a resolution is read at 300 dpi, as the service and OCRmyPDF (--image-dpi) read it.
        const dpi = image.endsWith('.pgm') ? [] : ['--dpi', '300'];
        await sh('tesseract', [image, out, ...dpi], { env: { OMP_THREAD_LIMIT: '1' } });
      }
    }),
  );
  run.wallS = (performance.now() - started) / 1000;
  for (const [i, doc] of docs.entries()) {
    const texts = pages.filter((p) => p.doc === i).map((p) => `${p.out}.txt`);
    run.pages += isImage(doc) ? doc.pages : texts.length;
    if (doc.truth !== null)
      run.scores[doc.name] = score(texts.map((t) => (existsSync(t) ? readFileSync(t, 'utf8') : '')).join('\n'), doc.truth);
  }
  rmSync(work, { recursive: true, force: true });
  return run;
}

// ---- the engine alone: tesseract.js and the CLI on the same pixels, one read per page, PEER_JOBS at a time ----
interface EnginePass {
  pages: number;
  /** tesseract.js in a loop (createWorker, LSTM, PSM 3, the same model files), pages per minute. */
  wasmPagesPerMin: number;
  cliPagesPerMin: number;
  wasmMsPerPage: number;
  cliMsPerPage: number;
}

const DEBIAN_TESSDATA = '/usr/share/tesseract-ocr/5/tessdata';

/** Where the engine is the wall: the service's reads minus everything around them, against the CLI on the very same PGMs. */
async function enginePass(docs: Doc[]): Promise<EnginePass | null> {
  const pagesOf = docs.filter((d) => d.pages === 1).slice(0, ENGINE_PAGES);
  if (!pagesOf.length || !onPath('tesseract') || !existsSync(join(DEBIAN_TESSDATA, 'eng.traineddata'))) return null;
  const work = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  try {
    const pgms: string[] = [];
    for (const [i, doc] of pagesOf.entries()) {
      const out = join(work, `${i}.pgm`);
      if (isImage(doc)) await sharp(doc.file).flatten({ background: '#ffffff' }).toColourspace('b-w').toFile(out.replace(/pgm$/, 'png'));
      else await sh('pdftoppm', ['-r', '300', '-gray', '-singlefile', doc.file, join(work, String(i))]);
      pgms.push(isImage(doc) ? out.replace(/pgm$/, 'png') : out);
    }
    const images = pgms.map((f) => readFileSync(f));
    const loop = async (read: (i: number) => Promise<unknown>) => {
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: PEER_JOBS }, async () => {
          while (next < images.length) await read(next++);
        }),
      );
      return (performance.now() - t0) / 1000;
    };
    const workers = await Promise.all(
      Array.from({ length: PEER_JOBS }, () =>
        createWorker('eng', OEM.LSTM_ONLY, { langPath: DEBIAN_TESSDATA, gzip: false, cacheMethod: 'none' }).then(async (w) => {
          await w.setParameters({ tessedit_pageseg_mode: PSM.AUTO, user_defined_dpi: '300' });
          return w;
        }),
      ),
    );
    try {
      // One warm-up read each, as the service's engines are warm.
      await Promise.all(workers.map((w) => w.recognize(images[0])));
      const free = [...workers];
      const wasmS = await loop(async (i) => {
        const w = free.pop()!;
        try {
          await w.recognize(images[i]);
        } finally {
          free.push(w);
        }
      });
      const cliS = await loop((i) =>
        sh('tesseract', [pgms[i], join(work, `cli-${i}`), '--dpi', '300'], { env: { OMP_THREAD_LIMIT: '1' } }),
      );
      const n = images.length;
      return {
        pages: n,
        wasmPagesPerMin: (n / wasmS) * 60,
        cliPagesPerMin: (n / cliS) * 60,
        wasmMsPerPage: (wasmS * 1000 * PEER_JOBS) / n,
        cliMsPerPage: (cliS * 1000 * PEER_JOBS) / n,
      };
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---- scale-out: the same multi-page document on 1 and 2 worker processes of one engine each ----
async function scaleOut(redisUrl: string, doc: Doc) {
  const times: Record<string, number[]> = { '1 worker': [], '2 workers': [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, workers] of [
      ['1 worker', 1],
      ['2 workers', 2],
    ] as const) {
      const stack = await startStack({ redisUrl, workers, env: { OCR_CONCURRENCY: '1' } });
      try {
        // Each worker process on a core of its own (the API and Redis share them, idle enough).
        stack.workers.forEach((w, i) => pin(w.child.pid, String(i % CORES)));
        const warm = await scannedPdf();
        await Promise.all(
          Array.from({ length: workers * 2 }, async () => waitForJob(stack.baseUrl, (await upload(stack.baseUrl, warm)).body.id)),
        );
        const t0 = performance.now();
        const { body } = await upload(stack.baseUrl, readFileSync(doc.file));
        await waitForJob(stack.baseUrl, body.id, 1_800_000);
        times[name].push((performance.now() - t0) / 1000);
      } finally {
        await stack.stop();
      }
    }
  }
  return { doc: doc.name, pages: doc.pages, oneS: median(times['1 worker']), twoS: median(times['2 workers']), pinned: canPin() };
}

// ---- pinning: a process (all its threads) to cores, with taskset ----
const CORES = availableParallelism();
const canPin = () => CORES >= 2 && onPath('taskset');

function pin(pid: number | undefined, cores: string): boolean {
  if (!pid || !canPin()) return false;
  return spawnSync('taskset', ['-a', '-pc', cores, String(pid)], { stdio: 'ignore' }).status === 0;
}

function redisPid(redisUrl: string): number | undefined {
  const info = spawnSync('redis-cli', ['-p', new URL(redisUrl).port, 'info', 'server'], { encoding: 'utf8' }).stdout ?? '';
  const pid = /process_id:(\d+)/.exec(info)?.[1];
  return pid ? Number(pid) : undefined;
}

/** Follows a job to its end with long polls (not the harness's 200 ms polling, which would add up to 200 ms). */
async function untilFinal(baseUrl: string, id: string): Promise<{ status: string }> {
  for (;;) {
    const res = await fetch(`${baseUrl}/v1/jobs/${id}?wait=30`);
    const job = (await res.json()) as { status: string };
    if (!['queued', 'processing'].includes(job.status)) return job;
  }
}

interface PollingPass {
  clients: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  /** The API's own time for the same requests (its http_request_duration_seconds). */
  server: { requests: number; over50ms: number; p99AtMostMs: number };
  pinned: boolean;
}

/**
 * `clients` clients each GET one running job's status once a second (their starts spread over
 * the first second) while the worker reads `doc`; the worker on core 1, the API and Redis on core 0.
 */
async function pollingPass(redisUrl: string, doc: Doc, clients: number): Promise<PollingPass> {
  const stack = await startStack({ redisUrl, workers: 0, env: { OCR_CONCURRENCY: '1' } });
  try {
    const worker = await stack.startWorker();
    const pinned = pin(worker.child.pid, '1') && pin(stack.api.child.pid, '0') && pin(redisPid(redisUrl), '0');
    const warm = await scannedPdf();
    await waitForJob(stack.baseUrl, (await upload(stack.baseUrl, warm)).body.id);
    const { body } = await upload(stack.baseUrl, readFileSync(doc.file));
    const metricsBefore = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    const done = untilFinal(stack.baseUrl, body.id);
    let running = true;
    void done.finally(() => (running = false));
    const times: number[] = [];
    let errors = 0;
    const deadline = performance.now() + 60_000;
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        await new Promise((r) => setTimeout(r, (i / clients) * 1000));
        while (running && performance.now() < deadline) {
          const t0 = performance.now();
          try {
            const res = await fetch(`${stack.baseUrl}/v1/jobs/${body.id}`);
            await res.arrayBuffer();
            if (res.status !== 200) errors += 1;
          } catch {
            errors += 1;
          }
          const took = performance.now() - t0;
          // Only while the job runs: a finished job's view is another path.
          if (running) times.push(took);
          await new Promise((r) => setTimeout(r, Math.max(0, 1000 - took)));
        }
      }),
    );
    await done;
    // Every GET of the job while it ran (the long poll that follows it is one more).
    const server = serverTimes(
      metricsBefore,
      await (await fetch(`${stack.baseUrl}/metrics`)).text(),
      'method="GET",route="/v1/jobs/:id",status_code="200"',
    );
    return { clients, requests: times.length, errors, p50: percentile(times, 50), p99: percentile(times, 99), server, pinned };
  } finally {
    await stack.stop();
  }
}

interface LatencyPass {
  doc: string;
  runs: number;
  /** Upload sent to `completed` seen, median. */
  latencyMs: number;
  /** The page's own time in the worker's thread (open, text layer, pixels, orientation, OCR), median. */
  inProcessMs: number;
  /** Where the rest went, per document, means from the worker's metrics. */
  documentsQueueWaitMs: number;
  pagesQueueWaitMs: number;
  documentMs: number;
  pinned: boolean;
}

/** One document at a time, on a warm worker: its upload-to-completed time against the page's time inside the worker. */
async function latencyPass(redisUrl: string, doc: Doc): Promise<LatencyPass> {
  const metricsPort = await freePort();
  const stack = await startStack({ redisUrl, workers: 0, env: { OCR_CONCURRENCY: '1' } });
  try {
    const worker = await stack.startWorker({ WORKER_METRICS_PORT: String(metricsPort) });
    const pinned = pin(worker.child.pid, '1') && pin(stack.api.child.pid, '0') && pin(redisPid(redisUrl), '0');
    const bytes = readFileSync(doc.file);
    // Warm: the engine loaded, the document's pages seen once.
    await untilFinal(stack.baseUrl, (await upload(stack.baseUrl, bytes)).body.id);
    const latencies: number[] = [];
    const inProcess: number[] = [];
    const before = await scrape(metricsPort);
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const m0 = await scrape(metricsPort);
      const t0 = performance.now();
      const { body } = await upload(stack.baseUrl, bytes);
      await untilFinal(stack.baseUrl, body.id);
      latencies.push(performance.now() - t0);
      const m1 = await scrape(metricsPort);
      const stage = (name: string) =>
        histogram(m1, 'ocr_page_stage_seconds', `stage="${name}"`).sum - histogram(m0, 'ocr_page_stage_seconds', `stage="${name}"`).sum;
      inProcess.push(['open', 'text_layer', 'render', 'osd', 'ocr'].reduce((sum, name) => sum + stage(name), 0) * 1000);
    }
    const after = await scrape(metricsPort);
    const meanMs = (name: string, labels = '') => {
      const [a, b] = [histogram(after, name, labels), histogram(before, name, labels)];
      return a.count > b.count ? ((a.sum - b.sum) / (a.count - b.count)) * 1000 : NaN;
    };
    return {
      doc: doc.name,
      runs: LATENCY_RUNS,
      latencyMs: median(latencies),
      inProcessMs: median(inProcess),
      documentsQueueWaitMs: meanMs('ocr_queue_wait_seconds', 'queue="documents"'),
      pagesQueueWaitMs: meanMs('ocr_queue_wait_seconds', 'queue="pages"'),
      documentMs: meanMs('ocr_document_duration_seconds'),
      pinned,
    };
  } finally {
    await stack.stop();
  }
}

// ---- report ----
function summarise(runs: ToolRun[], docs: Doc[]) {
  const scored = docs.filter((d) => d.truth !== null).map((d) => d.name);
  const perFile = Object.fromEntries(
    scored.map((name) => [
      name,
      {
        cer: median(runs.map((r) => r.scores[name]?.cer).filter((x) => x !== undefined)),
        wer: median(runs.map((r) => r.scores[name]?.wer).filter((x) => x !== undefined)),
      },
    ]),
  );
  const values = Object.values(perFile);
  return {
    pages: runs[0]?.pages ?? 0,
    wallS: median(runs.map((r) => r.wallS)),
    pagesPerMin: median(runs.map((r) => (r.pages / r.wallS) * 60)),
    latencyMedianS: median(runs.flatMap((r) => r.latencies)),
    latencyP95S: percentile(
      runs.flatMap((r) => r.latencies),
      95,
    ),
    cer: mean(values.map((v) => v.cer).filter(Number.isFinite)),
    wer: mean(values.map((v) => v.wer).filter(Number.isFinite)),
    failed: runs.flatMap((r) => r.failed),
    perFile,
  };
}

async function main() {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  let cleanup: string | null = null;
  let docs: Doc[];
  if (args.length) docs = collect(args);
  else if (existsSync(CORPUS)) docs = collect([join(CORPUS, 'scans'), join(CORPUS, 'gt')]);
  else {
    const generated = await generatedDocs();
    cleanup = generated.dir;
    docs = generated.docs;
  }
  const sets = [...new Set(docs.map((d) => d.set))];
  const peers = env.BENCH_PEERS !== '0' && onPath('ocrmypdf') && onPath('tesseract') && onPath('pdftoppm');
  const version = (cmd: string, arg = '--version') => {
    try {
      return execFileSync(cmd, [arg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0];
    } catch {
      return 'n/a';
    }
  };
  console.log(
    `${docs.length} files (${docs.reduce((s, d) => s + d.pages, 0)} pages) in ${sets.join(', ')}; ${REPS} run(s) each, medians; ` +
      `${WORKERS} worker process(es), ${INFLIGHT} documents in flight; peers: ${peers ? `OCRmyPDF ${version('ocrmypdf')}, ${version('tesseract')}, ${PEER_JOBS} at a time` : 'not run (not on PATH or BENCH_PEERS=0)'}\n`,
  );

  const redis = await startRedis();
  const results: Record<string, { service: ServiceRun[]; ocrmypdf: ToolRun[]; cli: ToolRun[] }> = {};
  try {
    for (let rep = 0; rep < REPS; rep++) {
      // Interleaved per set and tool, so that drift in the machine's load hits each alike.
      for (const set of sets) {
        const setDocs = docs.filter((d) => d.set === set);
        const r = (results[set] ??= { service: [], ocrmypdf: [], cli: [] });
        r.service.push(await runService(redis.url, setDocs, false));
        console.log(`run ${rep + 1} ${set}: service ${fmt(r.service.at(-1)!.wallS)} s`);
        if (peers) {
          r.ocrmypdf.push(await runOcrmypdf(setDocs));
          r.cli.push(await runCli(setDocs));
          console.log(`run ${rep + 1} ${set}: OCRmyPDF ${fmt(r.ocrmypdf.at(-1)!.wallS)} s, CLI ${fmt(r.cli.at(-1)!.wallS)} s`);
        }
      }
    }
    // The pollers share the machine's cores with the workers, so they get a pass of their own.
    const polling =
      POLLERS > 0
        ? (
            await runService(
              redis.url,
              docs.filter((d) => d.set === sets[0]),
              true,
            )
          ).polling
        : undefined;
    const multiPage = docs.find((d) => d.pages >= 10);
    const scale = env.BENCH_SCALE === '1' && multiPage ? await scaleOut(redis.url, multiPage) : null;
    // A job that runs long enough to be polled, and a one-page document for the latency.
    const longest = [...docs].sort((a, b) => b.pages - a.pages)[0];
    const pollingPasses: PollingPass[] = [];
    for (const clients of longest ? POLL_CLIENTS : []) pollingPasses.push(await pollingPass(redis.url, longest, clients));
    const onePage = docs.find((d) => d.pages === 1);
    const latency = onePage && LATENCY_RUNS > 0 ? await latencyPass(redis.url, onePage) : null;
    // The one-page documents of the last folder (the receipts, when given last).
    const engine = ENGINE_PAGES > 0 ? await enginePass(docs.filter((d) => d.set === sets.at(-1))) : null;

    const report = {
      date: new Date().toISOString(),
      reps: REPS,
      workers: WORKERS,
      inflight: INFLIGHT,
      sets: {} as Record<string, unknown>,
      polling,
      pollingPasses,
      latency,
      scale,
      engine,
    };
    console.log(
      '\n| set | pages | ours pages/min | OCRmyPDF | ratio | CLI | ratio | latency median / p95 s | CER ours | OCRmyPDF | CLI | WER ours | OCRmyPDF | CLI |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const set of sets) {
      const setDocs = docs.filter((d) => d.set === set);
      const r = results[set];
      const ours = summarise(r.service, setDocs);
      const omp = peers ? summarise(r.ocrmypdf, setDocs) : null;
      const cli = peers ? summarise(r.cli, setDocs) : null;
      console.log(
        `| ${set} | ${ours.pages} | ${fmt(ours.pagesPerMin)} | ${fmt(omp?.pagesPerMin ?? NaN)} | ${fmt(ours.pagesPerMin / (omp?.pagesPerMin ?? NaN), 2)}x | ` +
          `${fmt(cli?.pagesPerMin ?? NaN)} | ${fmt(ours.pagesPerMin / (cli?.pagesPerMin ?? NaN), 2)}x | ${fmt(ours.latencyMedianS)} / ${fmt(ours.latencyP95S)} | ` +
          `${fmt(ours.cer, 4)} | ${fmt(omp?.cer ?? NaN, 4)} | ${fmt(cli?.cer ?? NaN, 4)} | ${fmt(ours.wer, 4)} | ${fmt(omp?.wer ?? NaN, 4)} | ${fmt(cli?.wer ?? NaN, 4)} |`,
      );
      const stages = Object.fromEntries(STAGES.map((s) => [s, median(r.service.map((run) => run.stagesMs[s]))]));
      const rss = Object.fromEntries(Object.keys(r.service[0].rssMb).map((k) => [k, Math.max(...r.service.map((run) => run.rssMb[k]))]));
      report.sets[set] = {
        ours,
        ocrmypdf: omp,
        cli,
        stagesMs: stages,
        peakRssMb: rss,
        rotation: r.service[0].rotation,
        reads: r.service[0].reads,
        rasters: r.service[0].rasters,
        polling: r.service[0].polling,
      };
    }
    for (const set of sets) {
      const s = report.sets[set] as {
        stagesMs: Stages;
        peakRssMb: Record<string, number>;
        rasters: Record<string, number>;
        reads: Record<string, number>;
        ours: { failed: string[] };
      };
      console.log(
        `\n${set}: ms per page by stage: ${STAGES.filter((k) => k !== 'document')
          .map((k) => `${k} ${fmt(s.stagesMs[k], 0)}`)
          .join(', ')}; per document ${fmt(s.stagesMs.document, 0)} ms. Peak RSS MB: ${Object.entries(s.peakRssMb)
          .map(([k, v]) => `${k} ${fmt(v, 0)}`)
          .join(', ')}. OCR'd pages from their own image ${s.rasters.image}, rendered ${s.rasters.render}; read methods ${Object.entries(
          s.reads,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} (first run).`,
      );
      if (s.ours.failed.length) console.log(`${set}: failed: ${s.ours.failed.join('; ')}`);
    }
    if (polling) {
      console.log(
        `\nGET /v1/jobs/{id}, ${POLLERS} concurrent pollers while the workers were busy: ${polling.requests} requests, ${polling.errors} errors, p50 ${fmt(polling.p50)} ms, p99 ${fmt(polling.p99)} ms`,
      );
    }
    for (const p of pollingPasses) {
      console.log(
        `\nGET /v1/jobs/{id} of a running job (${longest.name}), ${p.clients} clients once a second${p.pinned ? ' (worker on core 1, API and Redis on core 0)' : ' (not pinned)'}: ` +
          `${p.requests} requests, ${p.errors} errors, p50 ${fmt(p.p50)} ms, p99 ${fmt(p.p99)} ms; ` +
          `in the API itself (its histogram, ${p.server.requests} requests): ${fmt(p.server.over50ms * 100)}% over 50 ms, p99 at most ${fmt(p.server.p99AtMostMs, 0)} ms`,
      );
    }
    if (latency) {
      const rest = latency.latencyMs - latency.inProcessMs;
      console.log(
        `\nlatency, ${latency.doc}, one at a time on a warm worker${latency.pinned ? ' (pinned as above)' : ''}: upload to completed ${fmt(latency.latencyMs, 0)} ms, ` +
          `the page in the worker's thread ${fmt(latency.inProcessMs, 0)} ms: ${fmt(latency.latencyMs / latency.inProcessMs, 2)}x. ` +
          `The other ${fmt(rest, 0)} ms: documents queue wait ${fmt(latency.documentsQueueWaitMs, 0)} ms, pages queue wait ${fmt(latency.pagesQueueWaitMs, 0)} ms, ` +
          `document from start to completed ${fmt(latency.documentMs, 0)} ms (medians of ${latency.runs}; means for the waits)`,
      );
    }
    if (engine) {
      console.log(
        `\nthe engine alone, ${engine.pages} one-page documents of ${sets.at(-1)}, one read each, ${PEER_JOBS} at a time on the same 300 dpi grey pixels: ` +
          `tesseract.js ${fmt(engine.wasmPagesPerMin)} pages/min (${fmt(engine.wasmMsPerPage, 0)} ms a page), ` +
          `tesseract CLI ${fmt(engine.cliPagesPerMin)} pages/min (${fmt(engine.cliMsPerPage, 0)} ms): ${fmt(engine.wasmPagesPerMin / engine.cliPagesPerMin, 2)}x`,
      );
    }
    if (scale) {
      console.log(
        `\nscale-out, ${scale.doc} (${scale.pages} pages), one engine per process${scale.pinned ? ', each on a core of its own' : ''}: 1 worker ${fmt(scale.oneS)} s, 2 workers ${fmt(scale.twoS)} s: ${fmt(scale.oneS / scale.twoS, 2)}x`,
      );
    }
    if (ACCURACY) {
      console.log('\n| file | CER ours | OCRmyPDF | CLI | WER ours | OCRmyPDF | CLI |');
      console.log('|---|---|---|---|---|---|---|');
      for (const set of sets) {
        const s = report.sets[set] as Record<string, { perFile: Record<string, FileScore> } | null>;
        for (const [name, v] of Object.entries(s.ours!.perFile)) {
          const o = s.ocrmypdf?.perFile[name];
          const c = s.cli?.perFile[name];
          console.log(
            `| ${name} | ${fmt(v.cer, 4)} | ${fmt(o?.cer ?? NaN, 4)} | ${fmt(c?.cer ?? NaN, 4)} | ${fmt(v.wer, 4)} | ${fmt(o?.wer ?? NaN, 4)} | ${fmt(c?.wer ?? NaN, 4)} |`,
          );
        }
      }
      printBehind(sets.map((set) => report.sets[set] as Record<string, { perFile: Record<string, FileScore> } | null>));
    }
    writeFileSync(OUT, JSON.stringify(report, null, 2));
    console.log(`\nWritten: ${OUT}`);
  } finally {
    await redis.stop();
    if (cleanup) rmSync(cleanup, { recursive: true, force: true });
  }
}

/** The pages furthest behind OCRmyPDF's read of them, and how many are more than 0.10 behind: where accuracy is lost. */
function printBehind(sets: Record<string, { perFile: Record<string, FileScore> } | null>[]) {
  const gaps = sets.flatMap((s) =>
    Object.entries(s.ours?.perFile ?? {}).flatMap(([name, v]) => {
      const o = s.ocrmypdf?.perFile[name];
      return o ? [{ name, ours: v.cer, ocrmypdf: o.cer, gap: v.cer - o.cer }] : [];
    }),
  );
  if (!gaps.length) return console.log('\nNo OCRmyPDF figures to compare with (BENCH_PEERS=0, or ocrmypdf not on PATH).');
  gaps.sort((a, b) => b.gap - a.gap);
  const behind = gaps.filter((g) => g.gap > 0.1).length;
  const ahead = gaps.filter((g) => g.gap < 0).length;
  console.log(`\n${gaps.length} files against OCRmyPDF: ${ahead} read better, ${behind} more than 0.10 CER worse. Furthest behind:`);
  console.log('| file | CER ours | OCRmyPDF | behind by |\n|---|---|---|---|');
  for (const g of gaps.slice(0, 10)) console.log(`| ${g.name} | ${fmt(g.ours, 4)} | ${fmt(g.ocrmypdf, 4)} | ${fmt(g.gap, 4)} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
