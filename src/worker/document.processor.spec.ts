import { getQueueToken } from '@nestjs/bullmq';
import { Test, type TestingModule } from '@nestjs/testing';
import { build } from 'esbuild';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeQueueData, startRedis, type TestRedis, until } from '../../test/harness';
import { DIGITAL_LINES, digitalPdf } from '../../test/fixtures';
import { AppConfig, loadConfig } from '../config/config';
import { ConfigModule } from '../config/config.module';
import { RESULT_FORMATS, TEXT_FORMATS } from '../contract/formats';
import { parseJobOptions } from '../contract/job-options';
import { DOCUMENT_JOB, DOCUMENTS_QUEUE, type DocumentJobData, type DocumentsQueue } from '../contract/queues';
import type { DocumentResult, DocumentSummary } from '../contract/results';
import { LoggingModule } from '../logging/logging.module';
import { JobEvents } from '../queue/job-events.service';
import { QueueModule } from '../queue/queue.module';
import { StorageModule } from '../storage/storage.module';
import { StorageService } from '../storage/storage.service';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { DocumentProcessor } from './document.processor';
import { WorkerMetricsModule } from './metrics/worker-metrics.module';
import { LanguageCatalog } from './ocr/language-catalog';
import { OutputPoolService } from './output/output-pool.service';
import { PageProcessor } from './page.processor';
import { PdfPoolService } from './pdf/pdf-pool.service';
import { POOL_FILES, type PoolFiles } from './pool-files';

const ROOT = join(__dirname, '..', '..');

/**
 * The pools' threads run plain Node, not jest's TypeScript: their entry files are bundled
 * as they are (packages left to node_modules), so nothing here needs `npm run build`.
 */
async function bundlePoolFiles(dir: string): Promise<PoolFiles> {
  const files = { pdf: join(dir, 'pool-task.js'), output: join(dir, 'output.task.js') };
  const entries = { pdf: 'src/worker/pdf/pool-task.ts', output: 'src/worker/output/output.task.ts' };
  for (const kind of ['pdf', 'output'] as const) {
    await build({
      entryPoints: [join(ROOT, entries[kind])],
      outfile: files[kind],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external',
      // The bundle sits outside the repository; its packages (and require.resolve) are the repository's.
      banner: { js: `module.paths.unshift(${JSON.stringify(join(ROOT, 'node_modules'))});` },
      logLevel: 'silent',
    });
  }
  return files;
}

/**
 * The document processor in-process: the worker's own providers on a real Redis (a unique
 * queue prefix, removed afterwards), real storage and the real page pipeline, on PDFs the
 * spec makes. What it checks is the fan-out into page jobs and the assembly of their results.
 */
describe('DocumentProcessor fan-out and assembly', () => {
  let redis: TestRedis;
  let prefix: string;
  let dir: string;
  let app: TestingModule;
  let config: AppConfig;
  let documents: DocumentsQueue;
  let storage: StorageService;
  let events: JobEvents;

  beforeAll(async () => {
    redis = await startRedis();
    prefix = `spec-${randomUUID().slice(0, 8)}`;
    dir = mkdtempSync(join(tmpdir(), 'ocr-document-spec-'));
    config = loadConfig({
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      STORAGE_DIR: join(dir, 'storage'),
      OCR_CONCURRENCY: '1',
      WORKER_METRICS_PORT: '0',
      MAX_PAGES: '5',
    });
    app = await Test.createTestingModule({
      imports: [ConfigModule, LoggingModule, QueueModule.register('consumer'), StorageModule, WorkerMetricsModule, WebhooksModule],
      providers: [
        LanguageCatalog,
        PdfPoolService,
        OutputPoolService,
        DocumentProcessor,
        PageProcessor,
        { provide: POOL_FILES, useValue: await bundlePoolFiles(dir) },
      ],
    })
      .overrideProvider(AppConfig)
      .useValue(config)
      .compile();
    app.enableShutdownHooks();
    await app.init();
    documents = app.get(getQueueToken(DOCUMENTS_QUEUE));
    storage = app.get(StorageService);
    events = app.get(JobEvents);
  });

  afterAll(async () => {
    await app?.close();
    await removeQueueData(redis.url, prefix);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Queues a document as the API does: the upload in storage, the options parsed once. */
  async function queue(pdf: Buffer, values: Record<string, string>, overrides: Partial<DocumentJobData> = {}) {
    const id = randomUUID();
    const path = join(dir, `${id}.pdf`);
    writeFileSync(path, pdf);
    const uploadKey = storage.uploadKey(id);
    await storage.adopt(path, uploadKey);
    const data: DocumentJobData = { ...parseJobOptions(values, config, 'form'), uploadKey, fileName: 'report', ...overrides };
    return documents.add(DOCUMENT_JOB, data, { jobId: id });
  }

  const settled = (id: string) =>
    until(
      `document ${id} to finish`,
      async () => {
        const state = await documents.getJobState(id);
        return (state === 'completed' || state === 'failed') && state;
      },
      120_000,
    );

  it('fans a document out into one page job per selected page and assembles their results in order', async () => {
    const { id } = (await queue(await digitalPdf(3), { pages: '3,1', ocr: 'never' }))!;
    expect(await settled(id!)).toBe('completed');
    const job = (await documents.getJob(id!))!;
    expect(job.returnvalue).toEqual({ pageCount: 2 });
    expect(job.data).toMatchObject({ pagesTotal: 2, pageNumbers: [1, 3] });
    // One child per selected page, each read from the text layer.
    const children = Object.values(await job.getChildrenValues());
    expect(children.map((c: { page: number }) => c.page).sort()).toEqual([1, 3]);
    expect(children.every((c: { source: string }) => c.source === 'text')).toBe(true);

    const result = (await storage.readJson<DocumentResult>(storage.resultKey(id!)))!;
    expect(result.pageCount).toBe(2);
    expect(result.pages.map((p) => p.page)).toEqual([1, 3]);
    expect(result.text.split('\f')).toHaveLength(2);
    for (const page of result.pages) {
      expect(page.text).toContain(DIGITAL_LINES[0]);
      expect(page.lines.length).toBeGreaterThan(0);
    }
    // The summary is what the API reads; it leaves the words out.
    const summary = (await storage.readJson<DocumentSummary>(storage.summaryKey(id!)))!;
    expect(summary).toMatchObject({ pageCount: 2, text: result.text });
    expect(summary.pages.every((p) => !('lines' in p))).toBe(true);

    for (const format of RESULT_FORMATS) expect(await storage.exists(storage.outputKey(id!, format))).toBe(true);
    for (const page of [1, 3]) {
      for (const format of TEXT_FORMATS) expect(await storage.exists(storage.pageOutputKey(id!, page, format))).toBe(true);
    }
    expect(await storage.exists(storage.pageOutputKey(id!, 2, 'txt'))).toBe(false);

    const statuses = async () => (await events.read(id!)).flatMap(({ event }) => (event.type === 'status' ? [event] : []));
    await until('the completed event', async () => (await statuses()).some((e) => e.status === 'completed'));
    expect((await statuses()).map((e) => [e.status, e.pagesTotal])).toEqual([
      ['processing', 2],
      ['completed', 2],
    ]);
  });

  it('refuses a page selection past the end of the document before it fans out', async () => {
    const { id } = (await queue(await digitalPdf(2), { pages: '2-4' }))!;
    expect(await settled(id!)).toBe('failed');
    const job = (await documents.getJob(id!))!;
    expect(job.failedReason).toMatch(/^invalid_pages: /);
    expect(job.data.pagesTotal).toBeUndefined();
    expect(await job.getDependenciesCount()).toMatchObject({ processed: 0, unprocessed: 0 });
  });

  it('refuses a document over MAX_PAGES', async () => {
    const { id } = (await queue(await digitalPdf(6), {}))!;
    expect(await settled(id!)).toBe('failed');
    expect((await documents.getJob(id!))!.failedReason).toMatch(/^too_many_pages: /);
  });

  it('fails the document with the error of a failed page, and writes no result', async () => {
    const { id } = (await queue(await digitalPdf(2), {}, { languages: ['zzz'] }))!;
    expect(await settled(id!)).toBe('failed');
    const job = (await documents.getJob(id!))!;
    expect(job.data.pagesTotal).toBe(2);
    expect(job.failedReason).toMatch(/^unsupported_language: /);
    expect(await storage.exists(storage.summaryKey(id!))).toBe(false);
  });
});
