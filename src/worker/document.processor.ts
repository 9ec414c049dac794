import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Job, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import { AppConfig } from '../config/config';
import { encodeFailure, decodeFailure } from '../contract/failures';
import { withJobContext } from '../logging/job-context';
import { WorkerMetrics } from '../metrics/worker.metrics';
import type { DocumentResult, DocumentSummary, PageResult, PageSummary } from '../contract/results';
import { documentConcurrency, PdfPoolService } from './pdf/pdf-pool.service';
import { CancellationService } from '../queue/cancellation.service';
import { PageSelectionError, selectPages } from '../contract/page-selection';
import {
  DOCUMENTS_QUEUE,
  DocumentJobData,
  DocumentJobResult,
  InjectPagesQueue,
  isDocumentId,
  PAGE_JOB,
  pageJobId,
  type PagesQueue,
  workerOptions,
} from '../contract/queues';
import { StorageService } from '../storage/storage.service';

/**
 * A document job runs twice: first it inspects the PDF and fans out one child job per
 * page, then it parks in waiting-children; when the pages are done it runs again and
 * assembles the result (or fails with the error of the first failed page).
 */
@Processor(DOCUMENTS_QUEUE, workerOptions)
export class DocumentProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DocumentProcessor.name);

  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly pdf: PdfPoolService,
    private readonly cancellations: CancellationService,
    @InjectPagesQueue() private readonly pages: PagesQueue,
    private readonly metrics: WorkerMetrics,
  ) {
    super();
  }

  onApplicationBootstrap() {
    // As many as the pool has inspection threads, so that no inspection waits for one.
    this.worker.concurrency = documentConcurrency(this.config.ocrConcurrency);
  }

  async onModuleDestroy() {
    await this.worker.close();
  }

  async process(job: Job<DocumentJobData>, token?: string) {
    return withJobContext({ jobId: job.id! }, () => this.run(job, token));
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
    return this.assemble(job);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<DocumentJobData> | undefined, error: Error) {
    withJobContext({ jobId: job?.id ?? '' }, () => this.logger.warn(`Document ${job?.id} failed: ${error.message}`));
  }

  @OnWorkerEvent('completed')
  onCompleted(job: Job<DocumentJobData>) {
    const ms = Date.now() - (job.data.startedAt ?? job.timestamp);
    this.metrics.documentDone(ms);
    withJobContext({ jobId: job.id! }, () => this.logger.log(`Document ${job.id} completed: ${job.data.pagesTotal} pages in ${ms} ms`));
  }

  private async split(job: Job<DocumentJobData>) {
    const id = job.id!;
    // The API deletes the upload of a job it could not confirm (a 503 to the client); such a
    // job may still have reached Redis, and must end without a trace of work.
    if (!(await this.storage.exists(job.data.uploadKey))) {
      throw new UnrecoverableError(encodeFailure('cancelled', 'The upload is gone: the job was abandoned or deleted.'));
    }
    const inspected = await this.pdf.inspect(this.storage.path(job.data.uploadKey));
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
      numbers.map((page) => ({
        name: PAGE_JOB,
        data: { documentId: id, uploadKey: job.data.uploadKey, page, languages: job.data.languages, ocr: job.data.ocr },
        opts: { jobId: pageJobId(id, page), parent: { id, queue: job.queueQualifiedName } },
      })),
    );
    await job.updateData({ ...job.data, pagesTotal: numbers.length, pageNumbers: numbers, startedAt: job.processedOn });
    this.logger.log(`Document ${id}: ${pageCount} pages, ${numbers.length} queued`);
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
    await this.storage.writeJson(this.storage.summaryKey(id), summary);
    await this.storage.remove(`pages/${id}`);
    return { pageCount: pages.length };
  }
}
