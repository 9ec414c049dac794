import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { AppConfig } from '../config/config';
import { languageCodes } from '../contract/job-options';
import { encodeFailure } from '../contract/failures';
import { withJobContext } from '../logging/job-context';
import { WorkerMetrics } from './metrics/worker.metrics';
import { LanguageCatalog } from './ocr/language-catalog';
import { PdfPoolService } from './pdf/pdf-pool.service';
import { CancellationService } from '../queue/cancellation.service';
import { JobEvents } from '../queue/job-events.service';
import { isDocumentId, PageJobData, PageJobResult, PAGES_QUEUE, workerOptions } from '../contract/queues';
import { StorageService } from '../storage/storage.service';

/** One page: text layer or render + OCR, in the thread pool; the result goes to storage. */
@Processor(PAGES_QUEUE, workerOptions)
export class PageProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PageProcessor.name);

  constructor(
    private readonly config: AppConfig,
    private readonly storage: StorageService,
    private readonly pdf: PdfPoolService,
    private readonly cancellations: CancellationService,
    private readonly metrics: WorkerMetrics,
    private readonly catalog: LanguageCatalog,
    private readonly events: JobEvents,
  ) {
    super();
  }

  onApplicationBootstrap() {
    // One page per pool thread: more would only queue inside the pool and eat its time limit.
    this.worker.concurrency = this.config.ocrConcurrency;
  }

  /**
   * Shutdown runs onModuleDestroy before onApplicationShutdown, so closing here lets the
   * pages in flight finish while the thread pool (closed in the later phase) still runs.
   */
  async onModuleDestroy() {
    await this.worker.close();
  }

  async process(job: Job<PageJobData>): Promise<PageJobResult> {
    return withJobContext({ jobId: job.data.documentId, page: job.data.page }, () => this.processPage(job));
  }

  private async processPage(job: Job<PageJobData>): Promise<PageJobResult> {
    const { documentId, page } = job.data;
    this.metrics.started(PAGES_QUEUE, job);
    if (!isDocumentId(documentId) || job.data.uploadKey !== this.storage.uploadKey(documentId)) {
      throw new UnrecoverableError(encodeFailure('processing_failed', 'The job was not made by this service.'));
    }
    await this.stopIfCancelled(documentId);
    // The API checks languages against the live workers, or accepts any while none is up.
    const languages = typeof job.data.languages === 'string' ? languageCodes(job.data.languages) : job.data.languages;
    const missing = this.catalog.missing(languages);
    if (missing.length) {
      const installed = [...this.catalog.models.keys()].sort().join(', ');
      throw new UnrecoverableError(
        encodeFailure('unsupported_language', `This worker has no OCR model for ${missing.join(', ')}. Installed: ${installed}.`),
      );
    }
    const started = Date.now();
    const { input } = job.data;
    // An image job's pages read the uploaded image itself: its PDF is only for the outputs.
    const path = await this.storage.localFile(input ? this.storage.imageUploadKey(documentId) : job.data.uploadKey);
    const outcome = await this.pdf.processPage({
      path,
      page,
      languages: languages.join('+'),
      ocr: job.data.ocr,
      ...(input ? { image: { type: input, index: page - 1 } } : {}),
    });
    if (!outcome.ok) {
      // Stopped with others when memory ran over: another attempt, possibly on another worker, will tell.
      if ('retryable' in outcome && outcome.retryable && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw new Error(outcome.message);
      this.metrics.pageFailed(outcome.code);
      throw new UnrecoverableError(encodeFailure(outcome.code, outcome.message));
    }
    await this.stopIfCancelled(documentId);
    await this.storage.writeJson(this.storage.pageKey(documentId, page), outcome.result);
    await this.events.pageDone(documentId, outcome.result);
    this.metrics.pageDone(outcome.result, outcome.timings, outcome.engineRecycled, outcome.raster);
    const raster = outcome.raster ? ` (raster: ${outcome.raster})` : '';
    // Kept as "Page N of ID: SOURCE in MS ms", which operators and the fault specs read; the path after it.
    this.logger.log(`Page ${page} of ${documentId}: ${outcome.result.source} in ${Date.now() - started} ms${raster}`);
    return { page, source: outcome.result.source };
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<PageJobData> | undefined, error: Error) {
    const retry = job && job.attemptsMade < (job.opts.attempts ?? 1) && !(error instanceof UnrecoverableError) ? ' (will retry)' : '';
    withJobContext({ jobId: job?.data.documentId ?? '', page: job?.data.page }, () =>
      this.logger.warn(`Page ${job?.data.page} of ${job?.data.documentId} failed${retry}: ${error.message}`),
    );
  }

  private async stopIfCancelled(documentId: string) {
    if (await this.cancellations.isCancelled(documentId)) {
      throw new UnrecoverableError(encodeFailure('cancelled', 'The job was cancelled.'));
    }
  }
}
