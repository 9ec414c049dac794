import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../config/config';
import { encodeFailure, decodeFailure } from '../contract/failures';
import { withJobContext } from '../logging/job-context';
import { WorkerMetrics } from './metrics/worker.metrics';
import type { DocumentResult, DocumentSummary, PageResult, PageSummary } from '../contract/results';
import { downloadBaseName, TEXT_FORMATS, type TextFormat } from '../contract/formats';
import { OutputPoolService } from './output/output-pool.service';
import { documentConcurrency, PdfPoolService } from './pdf/pdf-pool.service';
import { CancellationService } from '../queue/cancellation.service';
import { PageSelectionError, selectPages } from '../contract/page-selection';
import { jobView, type JobView, partialResult, unsentOutput } from '../contract/job-view';
import { queuedOptions } from '../contract/job-options';
import { JobEvents } from '../queue/job-events.service';
import { WebhooksService } from '../webhooks/webhooks.service';
import { faultPoint } from './fault-point';
import { imageToPdf } from './pdf/image-pdf';
import type { ImageType } from '../contract/inputs';
import {
  DOCUMENTS_QUEUE,
  DocumentJobData,
  DocumentJobResult,
  InjectPagesQueue,
  isDocumentId,
  PAGE_JOB,
  pageJobId,
  pagePriority,
  type PagesQueue,
  workerOptions,
} from '../contract/queues';
import { StorageService } from '../storage/storage.service';

const versionOf = (packageJson: string) => (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
/** Named in the hOCR and ALTO files, as their readers expect. */
const SOFTWARE = { name: 'ocr-service', version: versionOf(join(__dirname, '..', '..', 'package.json')) };
const TESSERACT_VERSION = versionOf(require.resolve('tesseract.js/package.json'));
const PDFJS_VERSION = versionOf(require.resolve('pdfjs-dist/package.json'));

/**
 * A document job runs twice: first it inspects the PDF and fans out one child job per
 * page, then it parks in waiting-children; when the pages are done it runs again and
 * assembles the result (or fails with the error of the first failed page).
 */
@Processor(DOCUMENTS_QUEUE, workerOptions)
export class DocumentProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DocumentProcessor.name);
  private readonly announcing = new Set<Promise<void>>();

  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly pdf: PdfPoolService,
    private readonly cancellations: CancellationService,
    @InjectPagesQueue() private readonly pages: PagesQueue,
    private readonly metrics: WorkerMetrics,
    private readonly outputs: OutputPoolService,
    private readonly events: JobEvents,
    private readonly webhooks: WebhooksService,
  ) {
    super();
  }

  onApplicationBootstrap() {
    // As many as the pool has inspection threads, so that no inspection waits for one.
    this.worker.concurrency = documentConcurrency(this.config.ocrConcurrency);
  }

  async onModuleDestroy() {
    await this.worker.close();
    // The final events of the last documents, before the queues' connections close.
    await Promise.all(this.announcing);
  }

  async process(job: Job<DocumentJobData>, token?: string) {
    this.upgrade(job);
    return withJobContext({ jobId: job.id! }, async () => {
      try {
        return await this.run(job, token);
      } catch (error) {
        if (this.isFinalFailure(job, error)) await this.queueFailureWebhook(job, (error as Error).message);
        throw error;
      }
    });
  }

  /** The job's options in today's shape, also for a job queued by an older version. */
  private upgrade(job: Job<DocumentJobData>) {
    job.data = queuedOptions(job.data, this.config);
  }

  /** A failure BullMQ will not retry, of a job this service made, that nobody else announces. */
  private isFinalFailure(job: Job<DocumentJobData>, error: unknown): boolean {
    if (error instanceof WaitingChildrenError || error instanceof DelayedError || !(error instanceof Error)) return false;
    if (!isDocumentId(job.id) || job.data.uploadKey !== this.storage.uploadKey(job.id)) return false;
    // A cancelled job was announced by the API that cancelled it.
    if (decodeFailure(error.message).code === 'cancelled') return false;
    return error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  }

  /**
   * As for a completion (see queueDeliveries): the webhook of a final failure is queued before
   * BullMQ records it, and waits for it. The failed event queues the same one again (one id, so
   * one delivery) for failures that never pass through here, such as a job that stalled too often.
   */
  private async queueFailureWebhook(job: Job<DocumentJobData>, reason: string) {
    if (!job.data.callbackUrl) return;
    try {
      const view = await this.finalView(job, 'failed', reason);
      await this.webhooks.enqueue(view, job.data.callbackUrl, job.data.retention);
    } catch (error) {
      this.logger.error(`Could not queue the webhook of failed document ${job.id}: ${error}`);
    }
  }

  private async run(job: Job<DocumentJobData>, token?: string) {
    const id = job.id!;
    // Only what the API makes is read: its own id and the upload key it derives from it.
    if (!isDocumentId(id) || job.data.uploadKey !== this.storage.uploadKey(id)) {
      throw new UnrecoverableError(encodeFailure('processing_failed', 'The job was not made by this service.'));
    }
    if (await this.cancellations.isCancelled(id)) throw new UnrecoverableError(encodeFailure('cancelled', 'The job was cancelled.'));
    if (job.data.pagesTotal === undefined) {
      this.metrics.started(DOCUMENTS_QUEUE, job);
      await this.split(job);
    }

    const failed = Object.values(await job.getFailedChildrenValues());
    if (failed.length) {
      // Pages still queued are wasted work now.
      await job.removeUnprocessedChildren().catch(() => undefined);
      // Reasons are already "code: message"; a specific code says more than a generic one.
      throw new UnrecoverableError(failed.find((r) => decodeFailure(r).code !== 'processing_failed') ?? failed[0]);
    }
    if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
    const result = await this.assemble(job);
    await this.events.forgetPages(id);
    await this.queueDeliveries(job);
    faultPoint('deliveries-queued');
    return result;
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<DocumentJobData> | undefined, error: Error) {
    if (job) this.upgrade(job);
    withJobContext({ jobId: job?.id ?? '' }, () => this.logger.warn(`Document ${job?.id} failed: ${error.message}`));
    const final = job && (error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1));
    // A cancelled job was announced by the API that cancelled it.
    if (final && decodeFailure(job.failedReason).code !== 'cancelled') this.track(this.announce(job, 'failed'));
  }

  @OnWorkerEvent('completed')
  onCompleted(job: Job<DocumentJobData>) {
    faultPoint('completion-recorded');
    this.upgrade(job);
    const ms = Date.now() - (job.data.startedAt ?? job.timestamp);
    this.metrics.documentDone(ms);
    withJobContext({ jobId: job.id! }, () => this.logger.log(`Document ${job.id} completed: ${job.data.pagesTotal} pages in ${ms} ms`));
    this.track(this.announce(job, 'completed'));
  }

  private track(announcement: Promise<void>) {
    this.announcing.add(announcement);
    void announcement.finally(() => this.announcing.delete(announcement));
  }

  /**
   * The completed job's output and webhook, queued before BullMQ records the completion: a
   * worker that dies between the two leaves the document to be assembled again (the same
   * delivery ids, so nothing is sent twice), never a completed job whose webhook is lost.
   * The deliveries wait until the completion is recorded (see WebhookProcessor).
   */
  private async queueDeliveries(job: Job<DocumentJobData>) {
    const { outputUrl, outputFormat, callbackUrl, retention } = job.data;
    if (!outputUrl && !callbackUrl) return;
    const view = await this.finalView(job, 'completed');
    if (outputUrl) {
      view.output = unsentOutput(outputFormat, 'pending');
      // The output goes first; its delivery then sends the webhook.
      await this.webhooks.enqueueOutput(view, { url: outputUrl, format: outputFormat, callbackUrl }, retention);
    } else {
      await this.webhooks.enqueue(view, callbackUrl, retention);
    }
  }

  /**
   * The job as GET shows it once BullMQ has recorded `state`, which may not have happened yet:
   * its result, or the pages it finished before it failed (and no output sent).
   */
  private async finalView(job: Job<DocumentJobData>, state: 'completed' | 'failed', failedReason = job.failedReason): Promise<JobView> {
    const id = job.id!;
    const ended = { ...job, id, finishedOn: job.finishedOn ?? Date.now(), failedReason } as Job<DocumentJobData>;
    if (state === 'completed') {
      const summary = await this.storage.readJson<DocumentSummary>(this.storage.summaryKey(id));
      return jobView(ended, state, job.data.pagesTotal ?? 0, summary);
    }
    const pages = await this.storage.finishedPages(id);
    const view = jobView(ended, state, pages.length, pages.length ? partialResult(pages) : null);
    if (job.data.outputUrl) view.output = unsentOutput(job.data.outputFormat, 'skipped');
    return view;
  }

  /** The final status to the job's event stream, once BullMQ has recorded it; and a failure's webhook. */
  private async announce(job: Job<DocumentJobData>, state: 'completed' | 'failed') {
    const id = job.id!;
    const { retention } = job.data;
    try {
      const view = await this.finalView(job, state);
      const { pagesTotal, pagesDone } = view.progress;
      await this.events.emit(id, { type: 'status', status: view.status, pagesTotal, pagesDone, error: view.error }, retention);
      if (state === 'failed') await this.webhooks.enqueue(view, job.data.callbackUrl, retention);
    } catch (error) {
      withJobContext({ jobId: id }, () => this.logger.error(`Could not announce that document ${id} ${state}: ${error}`));
    }
  }

  private async split(job: Job<DocumentJobData>) {
    const id = job.id!;
    // The API deletes the upload of a job it could not confirm (a 503 to the client); such a
    // job may still have reached Redis, and must end without a trace of work.
    const uploaded = job.data.input ? this.storage.imageUploadKey(id) : job.data.uploadKey;
    if (!(await this.storage.exists(uploaded))) {
      throw new UnrecoverableError(encodeFailure('cancelled', 'The upload is gone: the job was abandoned or deleted.'));
    }
    if (job.data.input) await this.imagePdf(job, job.data.input);
    const inspected = await this.pdf.inspect(await this.storage.localFile(job.data.uploadKey));
    if (!inspected.ok) throw new UnrecoverableError(encodeFailure(inspected.code, inspected.message));
    const { pageCount } = inspected;
    if (pageCount === 0) throw new UnrecoverableError(encodeFailure('pdf_empty', 'The PDF has no pages.'));
    if (pageCount > this.config.maxPages) {
      throw new UnrecoverableError(
        encodeFailure('too_many_pages', `The PDF has ${pageCount} pages; the limit is ${this.config.maxPages} (MAX_PAGES).`),
      );
    }
    let numbers: number[];
    try {
      numbers = selectPages(job.data.pages, pageCount);
    } catch (error) {
      if (error instanceof PageSelectionError) throw new UnrecoverableError(encodeFailure('invalid_pages', error.message));
      throw error;
    }
    // Deterministic ids make this safe to repeat if the job is retried after a crash.
    await this.pages.addBulk(
      numbers.map((page, index) => ({
        name: PAGE_JOB,
        data: {
          documentId: id,
          uploadKey: job.data.uploadKey,
          page,
          languages: job.data.languages,
          ocr: job.data.ocr,
          ...(job.data.input ? { input: job.data.input } : {}),
        },
        opts: { jobId: pageJobId(id, page), parent: { id, queue: job.queueQualifiedName }, priority: pagePriority(index) },
      })),
    );
    await job.updateData({ ...job.data, pagesTotal: numbers.length, pageNumbers: numbers, startedAt: job.processedOn });
    await this.events.emit(id, { type: 'status', status: 'processing', pagesTotal: numbers.length, pagesDone: 0 });
    this.logger.log(`Document ${id}: ${pageCount} pages, ${numbers.length} queued`);
  }

  /** The PDF of an uploaded image (see image-pdf.ts), made again if a retry finds it half done. */
  private async imagePdf(job: Job<DocumentJobData>, type: ImageType) {
    const id = job.id!;
    const { storage } = this;
    const source = storage.imageUploadKey(id);
    const target = await storage.localTarget(job.data.uploadKey);
    try {
      const outcome = await imageToPdf(await storage.localFile(source), target, type, {
        maxPages: this.config.maxPages,
        maxPixels: this.config.ocrMaxPixels,
        dpi: this.config.ocrDpi,
        timeoutSeconds: Math.max(1, Math.ceil(this.config.pageTimeoutMs / 1000)),
      });
      if (!outcome.ok) throw new UnrecoverableError(encodeFailure(outcome.code, outcome.message));
      await storage.commitLocalTarget(job.data.uploadKey, target);
      this.logger.log(`Document ${id}: ${type} image, ${outcome.pageCount} page(s) embedded as ${outcome.embedded.join(', ')}`);
    } finally {
      await storage.releaseLocalFile(source);
    }
  }

  private async assemble(job: Job<DocumentJobData>): Promise<DocumentJobResult> {
    const id = job.id!;
    const numbers = job.data.pageNumbers ?? [];
    const pages: PageResult[] = [];
    for (const page of numbers) {
      const result = await this.storage.readJson<PageResult>(this.storage.pageKey(id, page));
      if (!result) throw new Error(`The result of page ${page} is missing from storage.`);
      pages.push(result);
    }
    const text = pages.map((p) => p.text).join('\f');
    const full: DocumentResult = { pageCount: pages.length, text, pages };
    const summary: DocumentSummary = { pageCount: pages.length, text, pages: pages.map(({ lines: _lines, ...rest }): PageSummary => rest) };
    await this.storage.writeJson(this.storage.resultKey(id), full);
    await this.writeOutputs(job, numbers);
    // Last: the API reads a document's outputs only once its summary exists.
    await this.storage.writeJson(this.storage.summaryKey(id), summary);
    return { pageCount: pages.length };
  }

  /**
   * Every format a client may ask for, written once now rather than on each request; the
   * page results stay too, for GET /v1/jobs/{id}/pages/{n}. A PDF that pdf-lib cannot
   * rewrite leaves the document without its searchable PDF, not failed.
   */
  private async writeOutputs(job: Job<DocumentJobData>, numbers: number[]) {
    const id = job.id!;
    const { storage } = this;
    const title = `${downloadBaseName(job.data.fileName)}.pdf`;
    const system = `${SOFTWARE.name} ${SOFTWARE.version} (tesseract.js ${TESSERACT_VERSION}, pdf.js ${PDFJS_VERSION})`;
    // The output threads read and write files: local paths, which object storage gets afterwards.
    const written = new Map<string, string>();
    const target = async (key: string) => {
      const path = await storage.localTarget(key);
      written.set(key, path);
      return path;
    };
    const targets = async (key: (format: TextFormat) => string) =>
      Object.fromEntries(await Promise.all(TEXT_FORMATS.map(async (f) => [f, await target(key(f))]))) as Record<TextFormat, string>;
    const result = await storage.localFile(storage.resultKey(id));
    try {
      const pageTargets = Object.fromEntries(
        await Promise.all(numbers.map(async (n) => [n, await targets((f) => storage.pageOutputKey(id, n, f))])),
      );
      await this.outputs.writeTextOutputs({
        result,
        meta: { title, system },
        software: SOFTWARE,
        document: await targets((f) => storage.outputKey(id, f)),
        pages: pageTargets,
      });
      const pdf = await this.outputs.writeSearchablePdf({
        result,
        upload: await storage.localFile(job.data.uploadKey),
        target: await target(storage.outputKey(id, 'pdf')),
      });
      if (!pdf.ok) this.logger.warn(`Document ${id}: no searchable PDF: ${pdf.message}`);
      for (const [key, path] of written) await storage.commitLocalTarget(key, path);
    } finally {
      await storage.releaseLocalFile(storage.resultKey(id));
    }
  }
}
